/**
 * `dtlns-native label`: label each user's candidates as false negatives (positive) or not, into a
 * resumable JSON Lines store; or merge shard stores (`--merge a.jsonl b.jsonl --out all.jsonl`).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { labelDefaults } from '../defaults.js';
import type { Dataset } from '../data/types.js';
import { candidatesFromCsr, readCandidates } from '../labels/candidates.js';
import { importLabels } from '../labels/import.js';
import { labelCandidates, parseShard, type LabelJobSummary } from '../labels/label.js';
import { createLabeler, labelerKinds, type CodeControlInner, type LabelerKind, type LabelerSpec } from '../labels/labelers.js';
import {
  labelerCan, labelerCatalogue, labelerFieldsFromArgs, labelerFieldsOf, missingLabelerInputs, topLevelLabelerFields, type LabelerEntry,
} from '../labels/labeler-catalogue.js';
import { mergeLabelStores, readLabelStore } from '../labels/store.js';
import { labelHeldOut, labelQuality } from '../labels/quality.js';
import type { PromptItems } from '../labels/prompt.js';
import { formatDevice } from '../labels/types.js';
import { readPaths } from '../trees/path-file.js';
import { semanticPathsFile, structuralPathsFile } from '../trees/build.js';
import { commonOptions, dataOptions, labelerOptions, type LabelerArgs } from './options.js';
import { createProgress, formatNumber } from './progress.js';
import { loadDatasetFromArgs, type DataArgs } from './shared.js';

export interface LabelArgs extends DataArgs, LabelerArgs {
  candidates?: string;
  import?: string;
  pathsStruct?: string;
  pathsSemantic?: string;
  labeler: LabelerKind;
  /** The code controls' inner labeler; the other labeler options are read by labelerFieldsFromArgs. */
  inner: CodeControlInner;
  shard?: string;
  merge?: string[];
  out: string;
  fresh: boolean;
  threads: number;
  json: boolean;
  quiet: boolean;
}

/** --paths-* given, else the data folder's paths-struct.txt / paths-semantic.txt (as in ../shared/datasets/dtlns-*). */
function pathFile(given: string | undefined, data: string, name: string, flag: string): string {
  if (given) return given;
  const inData = existsSync(data) && statSync(data).isDirectory() ? join(data, name) : undefined;
  if (inData && existsSync(inData)) return inData;
  throw new Error(`Give ${flag} (an "item 0-1-3-2" path file; \`dtlns-native trees\` writes ${name})`);
}

async function promptItems(args: LabelArgs, dataset: Dataset): Promise<PromptItems> {
  const structural = await readPaths(pathFile(args.pathsStruct, args.data, structuralPathsFile, '--paths-struct'), dataset);
  const semantic = await readPaths(pathFile(args.pathsSemantic, args.data, semanticPathsFile, '--paths-semantic'), dataset);
  return { itemIds: dataset.itemIds, structural, semantic };
}

type Summary = LabelJobSummary & { quality?: ReturnType<typeof labelQuality>; heldOut?: ReturnType<typeof labelHeldOut> };

function printSummary(summary: Summary, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const c = summary.counts;
  const lines = [
    `${summary.labeler} (${summary.model}): ${formatNumber(summary.usersLabelled)} users labelled, ${formatNumber(summary.pairsResumed)} of ${formatNumber(summary.pairs)} pairs already done; ` +
      `positive ${formatNumber(c.positive)}, negative ${formatNumber(c.negative)}, unparsed ${formatNumber(c.unparsed)} in ${summary.seconds.toFixed(1)} s ` +
      `(${formatNumber(summary.usersPerSecond)} users/s)`,
  ];
  if (summary.fullPromptTokens > 0) {
    lines.push(`prompt tokens evaluated ${formatNumber(summary.promptTokens)} (one full prompt per candidate: ${formatNumber(summary.fullPromptTokens)}, ${(summary.fullPromptTokens / Math.max(1, summary.promptTokens)).toFixed(1)}x more)`);
  }
  if (summary.quality) {
    const q = summary.quality;
    lines.push(`vs planted hidden positives: precision ${q.precision.toFixed(3)}, recall ${q.recall.toFixed(3)}, F1 ${q.f1.toFixed(3)} (base rate ${q.baseRate.toFixed(3)})`);
  }
  if (summary.heldOut) {
    const h = summary.heldOut;
    lines.push(`held-out (valid/test) interactions: ${formatNumber(h.heldOutPositives)} of the ${formatNumber(h.positives)} positives (${(100 * h.precisionProxy).toFixed(2)} %, base rate ${(100 * h.baseRate).toFixed(2)} %), ${(100 * h.recallProxy).toFixed(1)} % of the held-out candidates`);
  }
  lines.push(`labels in ${summary.out}`);
  process.stdout.write(lines.join('\n') + '\n');
}

/** The labeler `label` builds from its arguments (without its items or imported labels): every option on the spec, and the inner labeler's under its key. */
export function labelerSpecFromArgs(args: LabelArgs, kind: LabelerKind): LabelerSpec {
  const inner = labelerCan(kind, 'codeControl') ? args.inner : kind;
  const at = (labelerCatalogue[inner] as LabelerEntry).optionsAt;
  return {
    kind,
    ...labelerFieldsFromArgs(topLevelLabelerFields, args, 'label'),
    ...(at ? { [at]: { ...labelerFieldsFromArgs(labelerFieldsOf(inner), args, 'label'), ...(at === 'llama' ? { threads: args.threads } : {}) } } : {}),
  } as LabelerSpec;
}

export const labelCommand: CommandModule<object, LabelArgs> = {
  command: 'label',
  describe: 'Label candidates as false negatives with an LLM (in-process GGUF or an OpenAI-compatible server) or a control',
  builder: (y: Argv) =>
    labelerOptions(commonOptions(dataOptions(y)), 'label')
      .option('candidates', { type: 'string', describe: 'Candidate file (user c1 ... cN lines, original ids), from `dtlns-native candidates`' })
      .option('import', {
        type: 'string',
        describe: 'Labels from a file instead of a labeler (--labeler file): a label store, "user item" pairs, or an augmented training file as the DTL-NS release ships it ("user item item ..." lines; training pairs are dropped). With --candidates, each candidate is labelled from it; without, every imported pair is written as a positive. Each record names the file and its SHA-256',
      })
      .option('paths-struct', { type: 'string', describe: `Structural tree paths (item 0-1-3-2 lines); default: ${structuralPathsFile} in the --data folder` })
      .option('paths-semantic', { type: 'string', describe: `Semantic tree paths; default: ${semanticPathsFile} in the --data folder` })
      .option('labeler', { type: 'string', choices: labelerKinds, default: labelDefaults.labeler, describe: `${labelerKinds.map((kind) => labelerCatalogue[kind].doc).join(', ')}; file reads --import` })
      .option('shard', { type: 'string', nargs: 1, describe: 'Label only users with index % n == i ("i/n"); merge the shard stores with --merge' })
      .option('merge', { type: 'array', string: true, describe: 'Merge these label stores into --out (no labelling)' })
      .option('out', { type: 'string', demandOption: true, describe: 'Label store (JSON Lines); an existing one is resumed if made from the same inputs' })
      .option('fresh', { type: 'boolean', default: false, describe: 'Start the label store over instead of resuming it' })
      .check((a) => {
        if (a.merge) return true;
        if (a.shard !== undefined) parseShard(String(a.shard));
        if (a.labeler === 'file' && !a.import) throw new Error('--labeler file needs --import FILE');
        if (!a.candidates && !a.import) throw new Error('Give --candidates FILE, --import FILE, or --merge FILES');
        const missing = (a.labeler === 'file' ? undefined : missingLabelerInputs(a.labeler as string, a)) ??
          (labelerCan(a.labeler as string, 'codeControl') ? missingLabelerInputs(a.inner as string, a, `--inner ${String(a.inner)}`) : undefined);
        if (missing) throw new Error(missing);
        return true;
      })
      .example('$0 label --data ../shared/datasets/dtlns-sports --candidates ../shared/datasets/dtlns-sports/candidates.txt --labeler rule --out labels.jsonl', 'The rule labeler on the authors\' candidates and paths')
      .example('$0 label --data D --candidates C --labeler rule --views either --min-support 1 --cap 0 --out labels.jsonl', 'The earlier, looser rule (one shared path in either tree)')
      .example('$0 label --data D --candidates C --labeler llama --llm-model qwen2.5-0.5b-instruct-q8_0.gguf --out labels.jsonl', 'An instruct model in-process')
      .example('$0 label --data D --candidates C --labeler openai --llm-url http://127.0.0.1:8000/v1 --llm-model-name qwen --shard 0/4 --out l0.jsonl', 'One shard on a vLLM server')
      .example('$0 label --data ../shared/datasets/dtlns-sports --import ../shared/datasets/dtlns-sports/llm-positives.txt --candidates ../shared/datasets/dtlns-sports/candidates.txt --out llm.jsonl', "The authors' LLM labels as a store over their candidates")
      .example('$0 label --merge l0.jsonl l1.jsonl l2.jsonl l3.jsonl --out labels.jsonl', 'Merge shards') as unknown as Argv<LabelArgs>,
  handler: async (args: ArgumentsCamelCase<LabelArgs>) => {
    if (args.merge) {
      const result = await mergeLabelStores(args.merge.map(String), args.out);
      if (args.json) process.stdout.write(JSON.stringify({ ...result, out: args.out }) + '\n');
      else process.stdout.write(`${formatNumber(result.records)} records merged into ${args.out} (${formatNumber(result.duplicates)} repeats dropped)\n`);
      return;
    }
    const dataset = await loadDatasetFromArgs(args);
    const imported = args.import !== undefined ? await importLabels(args.import, dataset) : undefined;
    const kind: LabelerKind = imported ? 'file' : args.labeler;
    const candidates = args.candidates !== undefined ? await readCandidates(args.candidates, dataset) : candidatesFromCsr(imported!.positives);
    const items = labelerCan(kind, 'readsPaths') ? await promptItems(args, dataset) : undefined;
    const labeler = await createLabeler({
      ...(imported ? { imported } : {}),
      ...(items ? { items } : {}),
      ...labelerSpecFromArgs(args, kind),
    });
    if (labeler.device) process.stderr.write(`${labeler.name} (${labeler.model}): ${formatDevice(labeler.device)}\n`);
    let progress: ReturnType<typeof createProgress> | undefined;
    let lastUpdate = 0;
    try {
      const summary = await labelCandidates(dataset, candidates, {
        labeler,
        out: args.out,
        fresh: args.fresh,
        ...(args.shard ? { shard: parseShard(args.shard) } : {}),
        onProgress: (p) => {
          progress ??= createProgress('label', p.usersTotal, { quiet: args.quiet, unit: 'users' });
          // At most two updates a second (fast labelers finish thousands of users a second).
          if (p.usersDone < p.usersTotal && Date.now() - lastUpdate < 500) return;
          lastUpdate = Date.now();
          progress.update(p.usersDone, { 'users/s': p.seconds > 0 ? p.usersDone / p.seconds : 0, positive: p.counts.positive, unparsed: p.counts.unparsed });
        },
      });
      progress?.stop();
      const records = await readLabelStore(args.out);
      const quality = dataset.hidden ? labelQuality(records, dataset) : undefined;
      const heldOut = dataset.valid || dataset.test ? labelHeldOut(records, dataset) : undefined;
      printSummary({ ...summary, ...(quality ? { quality } : {}), ...(heldOut ? { heldOut } : {}) }, args.json);
    } finally {
      progress?.stop();
      await labeler.close?.();
    }
  },
};
