/**
 * The GPU labelling measurement (issue 14), driven by run.sh:
 *
 *   model --shape 8b --out m.gguf     a random-weight Q8_0 GGUF of a real model's shape
 *   label --model m.gguf --data DIR   the `llama` labeler in score mode on the authors' Sports
 *                                     candidates, for a fixed time per case: with prefix reuse and
 *                                     with one full prompt per candidate (the authors' scheme)
 *
 * `label` reports candidates/s, prompt tokens/s, layers offloaded, GPU memory (node-llama-cpp's
 * VRAM state and nvidia-smi) and the time all candidates of the file would take at that rate. The
 * same users in the same order go through every case; model loading stays out of the rates. GPU
 * choice comes from node-llama-cpp's own detection (the labeler asks for `gpu: 'auto'`), so a CUDA
 * build made by run.sh is used where a GPU is, and the prebuilt CPU binary elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadDataset } from '../../src/data/load.js';
import type { Dataset } from '../../src/data/types.js';
import { readCandidates } from '../../src/labels/candidates.js';
import { createLlamaLabeler, getSharedLlama } from '../../src/labels/llama.js';
import type { PromptItems } from '../../src/labels/prompt.js';
import type { Candidates } from '../../src/labels/types.js';
import { readPaths } from '../../src/trees/path-file.js';
import { writeGguf } from '../../src/labels/gguf-writer.js';
import { modelShapes, shapeNames, shapeOptions, type ShapeName } from './shapes.js';

const schemes = { reuse: true, full: false } as const;
type Scheme = keyof typeof schemes;

interface GpuMemory {
  usedMiB: number;
  totalMiB: number;
  name: string;
}

/** nvidia-smi's view of GPU 0, or undefined without one. */
function nvidiaSmiMemory(): GpuMemory | undefined {
  const r = spawnSync('nvidia-smi', ['--query-gpu=memory.used,memory.total,name', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) return undefined;
  const [used, total, ...name] = r.stdout.split('\n')[0].split(',').map((s) => s.trim());
  return { usedMiB: Number(used), totalMiB: Number(total), name: name.join(',') };
}

function machine(): string {
  const list = cpus();
  const gpu = nvidiaSmiMemory();
  return `${list[0]?.model.trim() ?? 'unknown CPU'}, ${list.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
    `load average ${loadavg()[0].toFixed(1)}${gpu ? `, GPU ${gpu.name} (${gpu.totalMiB} MiB)` : ', no NVIDIA GPU'}, node ${process.version}`;
}

interface UserWork {
  user: number;
  history: Uint32Array;
  candidates: Uint32Array;
}

function usersInOrder(dataset: Dataset, candidates: Candidates, maxUsers: number): UserWork[] {
  const out: UserWork[] = [];
  for (let r = 0; r < candidates.users.length && out.length < maxUsers; r++) {
    const user = candidates.users[r];
    const row = candidates.items.subarray(candidates.indptr[r], candidates.indptr[r + 1]);
    if (row.length === 0) continue;
    out.push({ user, history: dataset.train.indices.subarray(dataset.train.indptr[user], dataset.train.indptr[user + 1]), candidates: row });
  }
  return out;
}

export interface CaseResult {
  scheme: Scheme;
  sequences: number;
  users: number;
  candidates: number;
  seconds: number;
  candidatesPerSecond: number;
  promptTokens: number;
  promptTokensPerSecond: number;
  /** Prompt tokens one full prompt per candidate takes, on average. */
  fullPromptTokensPerCandidate: number;
  unparsed: number;
  gpu: string | false;
  gpuLayers: number;
  loadSeconds: number;
  vramUsedMiB?: number;
  nvidiaSmiUsedMiB?: number;
  /** Hours for every candidate of the file at this rate. */
  projectedHoursAll: number;
}

async function runCase(o: LabelArgs, items: PromptItems, work: UserWork[], scheme: Scheme, sequences: number, allCandidates: number): Promise<CaseResult> {
  const loadStarted = performance.now();
  const labeler = await createLlamaLabeler({
    modelPath: o.model, items, mode: 'score', prefixReuse: schemes[scheme], sequences, gpuLayers: o.gpuLayers,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.contextSize !== undefined ? { contextSize: o.contextSize } : {}),
  });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  try {
    const before = labeler.stats();
    const started = performance.now();
    const deadline = started + o.seconds * 1000;
    let next = 0;
    let users = 0;
    let candidates = 0;
    let unparsed = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline && next < work.length) {
        const w = work[next++];
        const given = scheme === 'full' ? w.candidates.subarray(0, o.fullCandidatesPerUser) : w.candidates;
        const results = await labeler.labelUser(w.user, w.history, given);
        users++;
        candidates += results.length;
        unparsed += results.filter((r) => r.label === 'unparsed').length;
      }
    };
    await Promise.all(Array.from({ length: sequences }, worker));
    const seconds = (performance.now() - started) / 1000;
    const after = labeler.stats();
    const promptTokens = after.promptTokens - before.promptTokens;
    const llama = await getSharedLlama(labeler.threads);
    const vram = labeler.device.backend !== 'cpu' ? await llama.getVramState() : undefined;
    const smi = nvidiaSmiMemory();
    const candidatesPerSecond = candidates / seconds;
    return {
      scheme, sequences, users, candidates, seconds, candidatesPerSecond,
      promptTokens, promptTokensPerSecond: promptTokens / seconds,
      fullPromptTokensPerCandidate: (after.fullPromptTokens - before.fullPromptTokens) / Math.max(1, candidates),
      unparsed, gpu: labeler.device.backend, gpuLayers: labeler.device.gpuLayers, loadSeconds,
      ...(vram ? { vramUsedMiB: Math.round(vram.used / 2 ** 20) } : {}),
      ...(smi ? { nvidiaSmiUsedMiB: smi.usedMiB } : {}),
      projectedHoursAll: allCandidates / candidatesPerSecond / 3600,
    };
  } finally {
    await labeler.close();
  }
}

function caseLine(r: CaseResult): string {
  const memory = [r.vramUsedMiB !== undefined ? `VRAM ${r.vramUsedMiB} MiB (node-llama-cpp)` : '', r.nvidiaSmiUsedMiB !== undefined ? `${r.nvidiaSmiUsedMiB} MiB (nvidia-smi)` : ''].filter(Boolean).join(', ');
  return `${r.scheme === 'reuse' ? 'prefix reuse' : 'full prompts'}, ${r.sequences} sequence(s): ${r.users} users, ${r.candidates} candidates in ${r.seconds.toFixed(1)} s = ` +
    `${r.candidatesPerSecond.toFixed(2)} candidates/s, ${Math.round(r.promptTokensPerSecond)} prompt tokens/s ` +
    `(${(r.promptTokens / Math.max(1, r.candidates)).toFixed(1)} tokens evaluated per candidate, ${r.fullPromptTokensPerCandidate.toFixed(1)} in a full prompt); ` +
    `${r.gpu ? `${r.gpu}, ${r.gpuLayers} layers offloaded` : 'CPU'}${memory ? `, ${memory}` : ''}; unparsed ${r.unparsed}; ` +
    `all candidates would take ${r.projectedHoursAll < 1 ? `${(r.projectedHoursAll * 60).toFixed(1)} min` : `${r.projectedHoursAll.toFixed(1)} h`}`;
}

interface ModelArgs {
  shape: ShapeName;
  out: string;
  seed: number;
}

interface LabelArgs {
  model: string;
  data: string;
  candidates?: string;
  seconds: number;
  maxUsers: number;
  schemes: Scheme[];
  fullCandidatesPerUser: number;
  sequences: number[];
  threads?: number;
  gpuLayers: number | 'auto';
  contextSize?: number;
  json?: string;
}

function parseList<T>(text: string, name: string, parse: (item: string) => T | undefined, expected: string): T[] {
  const items = String(text).split(',').map((s) => s.trim()).filter(Boolean);
  const out = items.map((item) => {
    const value = parse(item);
    if (value === undefined) throw new RangeError(`Expected ${expected} for --${name} but received "${text}"`);
    return value;
  });
  if (out.length === 0) throw new RangeError(`Expected ${expected} for --${name} but received "${text}"`);
  return out;
}

async function label(o: LabelArgs): Promise<void> {
  const log = (line: string): void => void process.stderr.write(line + '\n');
  log(`machine: ${machine()}`);
  const dataset = await loadDataset(o.data);
  const candidates = await readCandidates(o.candidates ?? join(o.data, 'candidates.txt'), dataset);
  const items: PromptItems = {
    itemIds: dataset.itemIds,
    structural: await readPaths(join(o.data, 'paths-struct.txt'), dataset),
    semantic: await readPaths(join(o.data, 'paths-semantic.txt'), dataset),
  };
  const allCandidates = candidates.items.length;
  const work = usersInOrder(dataset, candidates, o.maxUsers);
  log(`data ${o.data}: ${candidates.users.length} users with ${allCandidates} candidates; model ${o.model}`);
  const results: CaseResult[] = [];
  for (const sequences of o.sequences) {
    for (const scheme of o.schemes) {
      const r = await runCase(o, items, work, scheme, sequences, allCandidates);
      log(caseLine(r));
      results.push(r);
    }
  }
  const report = { machine: machine(), model: o.model, data: o.data, allCandidates, secondsPerCase: o.seconds, results };
  if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(JSON.stringify(report) + '\n');
}

function model(o: ModelArgs): void {
  const shape = modelShapes[o.shape];
  process.stderr.write(`writing a ${o.shape} model (${shape.like}), Q8_0, to ${o.out}\n`);
  const r = writeGguf(o.out, shapeOptions(o.shape, o.seed));
  process.stdout.write(JSON.stringify({ shape: o.shape, like: shape.like, ...r, gigabytesPerSecond: r.bytes / r.seconds / 1e9 }) + '\n');
}

/** What node-llama-cpp picks with the labeler's own settings (`gpu: 'auto'`), before any model loads. */
async function checkGpu(expect: string): Promise<void> {
  const { getLlamaGpuTypes } = await import('node-llama-cpp');
  const llama = await getSharedLlama(1);
  const vram = llama.gpu ? await llama.getVramState() : undefined;
  const line = { gpu: llama.gpu, buildType: llama.buildType, usable: await getLlamaGpuTypes('supported'), ...(vram ? { vramTotalMiB: Math.round(vram.total / 2 ** 20) } : {}) };
  process.stdout.write(JSON.stringify(line) + '\n');
  if (expect !== 'any' && llama.gpu !== expect) {
    throw new Error(`node-llama-cpp picked ${llama.gpu === false ? 'the CPU' : llama.gpu} with gpu: 'auto', not ${expect}: is the ${expect} build there, and are its libraries (libcudart, libcublas, libnvidia-ml) where node-llama-cpp looks (LD_LIBRARY_PATH, CUDA_PATH, /usr/local/cuda*)?`);
  }
}

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('gpu-labelling')
    .command('model', 'Write a random-weight Q8_0 llama GGUF of a real model\'s shape', (y) => y
      .option('shape', { type: 'string', choices: shapeNames, demandOption: true, describe: shapeNames.map((n) => `${n}: ${modelShapes[n].like}`).join('; ') })
      .option('out', { type: 'string', demandOption: true, describe: 'The GGUF file to write' })
      .option('seed', { type: 'number', default: 1, describe: 'Seed of the weights' }),
    (a) => model(a as unknown as ModelArgs))
    .command('label', 'Label candidates with the llama labeler (score mode) for a fixed time per case', (y) => y
      .option('model', { type: 'string', demandOption: true, describe: 'A GGUF model' })
      .option('data', { type: 'string', demandOption: true, describe: 'A dataset folder with train/valid/test, candidates.txt, paths-struct.txt, paths-semantic.txt' })
      .option('candidates', { type: 'string', describe: 'Candidate file (default: candidates.txt in --data)' })
      .option('seconds', { type: 'number', default: 60, describe: 'Labelling time per case (users are started until it runs out)' })
      .option('max-users', { type: 'number', default: Number.MAX_SAFE_INTEGER, describe: 'Most users per case' })
      .option('schemes', { type: 'string', default: 'reuse,full', describe: 'reuse (prefix once per user) and/or full (one full prompt per candidate)' })
      .option('full-candidates-per-user', { type: 'number', default: Number.MAX_SAFE_INTEGER, describe: 'full scheme: only the first N candidates of each user (a full prompt costs the same whatever a user\'s other candidates; on a slow CPU one user\'s 20 full prompts can outlast the time per case)' })
      .option('sequences', { type: 'string', default: '1', describe: 'Context sequences (users in parallel), a comma list: one case per value and scheme' })
      .option('threads', { type: 'number', describe: 'CPU threads (default: cores)' })
      .option('gpu-layers', { type: 'string', default: 'auto', describe: 'Layers offloaded to the GPU: auto or a number' })
      .option('context-size', { type: 'number', describe: 'Tokens per sequence (default: the labeler\'s)' })
      .option('json', { type: 'string', describe: 'Also write the report to this file' })
      .check((a) => {
        if (!(Number.isFinite(a.seconds) && a.seconds > 0)) throw new RangeError(`Expected a positive number of seconds for --seconds but received ${a.seconds}`);
        const perUser = a.fullCandidatesPerUser as number;
        if (!(Number.isInteger(perUser) && perUser > 0)) throw new RangeError(`Expected a positive integer for --full-candidates-per-user but received ${perUser}`);
        const maxUsers = a.maxUsers as number;
        if (!(Number.isInteger(maxUsers) && maxUsers > 0)) throw new RangeError(`Expected a positive integer for --max-users but received ${maxUsers}`);
        return true;
      })
      .coerce('schemes', (t: string) => parseList(t, 'schemes', (s) => (s in schemes ? (s as Scheme) : undefined), 'a comma list of reuse, full'))
      .coerce('sequences', (t: string) => parseList(t, 'sequences', (s) => (/^[1-9]\d*$/.test(s) ? Number(s) : undefined), 'a comma list of positive integers'))
      .coerce('gpu-layers', (t: string) => {
        if (t === 'auto') return 'auto';
        if (!/^\d+$/.test(t)) throw new RangeError(`Expected "auto" or a non-negative integer for --gpu-layers but received "${t}"`);
        return Number(t);
      }),
    (a) => label(a as unknown as LabelArgs))
    .command('check-gpu', 'Say which GPU node-llama-cpp picks with the labeler\'s settings', (y) => y
      .option('expect', { type: 'string', choices: ['cuda', 'vulkan', 'any'], default: 'any', describe: 'Fail unless this GPU type is picked' }),
    (a) => checkGpu(a.expect as string))
    .demandCommand(1, 'Give a command: model, label or check-gpu')
    .strict()
    .help()
    .parseAsync();
}

await main(hideBin(process.argv));
