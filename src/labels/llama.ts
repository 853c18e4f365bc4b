/**
 * The `llama` labeler: a GGUF model run in-process by node-llama-cpp.
 *
 * Per user, the prompt prefix [system + history] is evaluated ONCE on a context sequence; then for
 * each candidate only the tail [candidate + answer cue] is evaluated after it and erased again
 * (`eraseContextTokenRanges`), so the prefix's KV cache is reused. Tokens shared with the previous
 * user's prefix (the system prompt) stay in the sequence too. With `prefixReuse: false` every
 * (user, candidate) is evaluated as one full prompt from an empty sequence, as the DTL-NS release
 * does; the two give the same answers (see the tests) and the token counts show the saving.
 *
 * Modes: `score` reads the next-token distribution after the tail (no generation) and scores
 * P(yes) / (P(yes) + P(no)) over the tokens that can start each answer; a score at or above the
 * threshold is positive. Only the answer tokens' probabilities cross into JS: they all get the same
 * logit bias and top-k keeps exactly them, and a softmax over a subset is the full one renormalised,
 * so the ratio is unchanged, while the full distribution is a 128K-entry Map per candidate with
 * Llama 3's vocabulary (0.4-0.8 s of JS per candidate on the loaded 2-core machine, as much as
 * evaluating a 20-token tail). `generate` lets the model answer under a grammar that allows only the two
 * words; an answer that still cannot be read is retried once, then recorded as unparsed.
 *
 * One `Llama` per process (getLlama costs about 2 s: it tests the binary in a child process), CPU
 * threads = cores unless overridden (more threads than cores collapses llama.cpp's speed), flash
 * attention off (4-7x slower on small models here). The backend (`gpu`: the best one that works, or
 * the one asked for) and the layers offloaded to it (`gpuLayers`) are reported in `device`.
 * The model file is validated first: some malformed models abort the process inside llama.cpp.
 */
import { basename } from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel, Token, TokenBias } from 'node-llama-cpp';
import { defaultThreads, labelDefaults } from '../defaults.js';
import { labelerFieldSpecs, llamaGpuChoices } from './labeler-catalogue.js';
import { MissingDependencyError } from '../util/optional.js';
import { validateGguf } from './gguf.js';
import { PromptRenderer } from './llamaPrompt.js';
import { parseAnswer, type PromptItems } from './prompt.js';
import { emptyStats, type Label, type Labeler, type LabelerDevice, type LabelerStats, type LabelResult } from './types.js';

export type LlamaMode = 'score' | 'generate';
export { llamaGpuChoices };
export type LlamaGpu = (typeof llamaGpuChoices)[number];

export interface LlamaLabelerOptions {
  /** A GGUF model file. */
  modelPath: string;
  items: PromptItems;
  mode?: LlamaMode;
  /** Score mode: positive when P(yes) / (P(yes) + P(no)) reaches this. */
  threshold?: number;
  /** llama.cpp backend: 'auto' (default) the best that works here, else exactly this one ('cpu': no GPU). */
  gpu?: LlamaGpu;
  /** Layers offloaded to the GPU: 'auto' (default) what fits, 'max' all, or a count (0 with gpu 'cpu'). */
  gpuLayers?: number | 'auto' | 'max';
  /** CPU threads (default: cores, or DTLNS_THREADS). */
  threads?: number;
  /** Context sequences, i.e. users labelled in parallel. */
  sequences?: number;
  /** Tokens per sequence (capped by the model's training context). */
  contextSize?: number;
  /** Most tokens of the [system + history] prefix; longer histories are cut to their last items. */
  maxPrefixTokens?: number;
  /** false: one full prompt per (user, candidate), the DTL-NS release's scheme (default labelDefaults.prefixReuse). */
  prefixReuse?: boolean;
  /** Generate mode: most tokens an answer may take. */
  maxAnswerTokens?: number;
}

export interface LlamaLabeler extends Labeler {
  stats(): LabelerStats;
  close(): Promise<void>;
  readonly chatWrapper: string;
  readonly contextSize: number;
  readonly device: LabelerDevice;
  readonly threads: number;
}

const answerGrammar = 'root ::= " "? ("Yes" | "No" | "yes" | "no")';
/**
 * Logit bias of the answer tokens in score mode: large enough that they outrank every other token
 * (a real model's logits span a few tens), small enough that float32 keeps the differences between
 * them exact to about 1e-5.
 */
const ANSWER_LOGIT_BIAS = 100;

let sharedLlama: { gpu: LlamaGpu; llama: Promise<Llama> } | undefined;

/**
 * @internal The process's one Llama (created on first use, with the backend `gpu`); later callers
 * adjust its thread cap and must ask for the same backend (two llama.cpp builds do not share a
 * process). Internal: its type is node-llama-cpp's, kept out of the published declarations.
 */
export async function getSharedLlama(threads: number, gpu: LlamaGpu = labelDefaults.gpu): Promise<Llama> {
  if (!llamaGpuChoices.includes(gpu)) throw new RangeError(`Expected one of ${llamaGpuChoices.join(', ')} for gpu but received ${String(gpu)}`);
  if (sharedLlama && sharedLlama.gpu !== gpu) {
    throw new RangeError(`Expected gpu '${sharedLlama.gpu}' for gpu (llama.cpp is already loaded in this process with that backend) but received '${gpu}'`);
  }
  if (!sharedLlama) {
    const loading = loadLlama(threads, gpu);
    sharedLlama = { gpu, llama: loading };
    // A failed load is not cached: a later call may ask for another backend.
    loading.catch(() => {
      if (sharedLlama?.llama === loading) sharedLlama = undefined;
    });
  }
  const llama = await sharedLlama.llama;
  if (llama.maxThreads < threads) llama.maxThreads = threads;
  return llama;
}

/** node-llama-cpp's name of a platform's prebuilt binary packages (@node-llama-cpp/<name>). */
function prebuiltPackage(gpu: LlamaGpu, platform: string, arch: string): string {
  const os = platform === 'darwin' ? 'mac' : platform === 'win32' ? 'win' : platform;
  const suffix = gpu === 'cuda' || gpu === 'vulkan' ? `-${gpu}` : os === 'mac' && arch === 'arm64' ? '-metal' : '';
  return `@node-llama-cpp/${os}-${arch}${suffix}`;
}

/**
 * @internal The error for a backend without a working build of llama.cpp: what to install on
 * `platform`/`arch` (this process's by default), or how to build it offline. A function of its
 * arguments so that every platform's message can be tested on one.
 */
export function missingBuildError(gpu: LlamaGpu, platform: string = process.platform, arch: string = process.arch): MissingDependencyError {
  const backend = gpu === 'auto' ? 'usable' : gpu === 'cpu' ? 'CPU' : gpu.toUpperCase();
  return new MissingDependencyError(
    'node-llama-cpp',
    `node-llama-cpp has no ${backend} build of llama.cpp that runs on this machine (--gpu ${gpu}). Install the prebuilt one, ` +
      `\`npm install ${prebuiltPackage(gpu, platform, arch)}\` at node-llama-cpp's version, or build it offline from the llama.cpp source node-llama-cpp ships: ` +
      `\`npx --no node-llama-cpp source download --gpu ${gpu === 'auto' || gpu === 'cpu' ? 'false' : gpu}\` (see the README, "Install as a dependency")`,
  );
}

async function loadLlama(threads: number, gpu: LlamaGpu): Promise<Llama> {
  const { getLlama, LlamaLogLevel, NoBinaryFoundError } = await import('node-llama-cpp');
  try {
    // build 'never': nothing is downloaded or compiled at run time.
    return await getLlama({ gpu: gpu === 'cpu' ? false : gpu, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
  } catch (error) {
    if (!(error instanceof NoBinaryFoundError)) throw error;
    throw missingBuildError(gpu);
  }
}

/** Waits for a free sequence and hands it out; one user per sequence at a time. */
class SequencePool {
  private readonly free: LlamaContextSequence[];
  private readonly waiting: ((sequence: LlamaContextSequence) => void)[] = [];
  constructor(sequences: LlamaContextSequence[]) {
    this.free = [...sequences];
  }
  acquire(): Promise<LlamaContextSequence> {
    const sequence = this.free.pop();
    if (sequence) return Promise.resolve(sequence);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next) next(sequence);
    else this.free.push(sequence);
  }
}

function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`Expected a boolean for ${name} but received ${String(value)}`);
  return value;
}

function checkOptions(o: LlamaLabelerOptions): Required<Omit<LlamaLabelerOptions, 'items' | 'modelPath'>> {
  const mode = o.mode ?? labelDefaults.mode;
  if (mode !== 'score' && mode !== 'generate') throw new RangeError(`Expected 'score' or 'generate' for mode but received ${String(mode)}`);
  const threshold = o.threshold ?? labelDefaults.threshold;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) throw new RangeError(`Expected a number in [0, 1] for threshold but received ${threshold}`);
  const integer = (value: unknown, name: string, min: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new RangeError(`Expected an integer >= ${min} for ${name} but received ${String(value)}`);
    return value;
  };
  // Defaults and bounds from the labeler catalogue's llama fields.
  const integerField = (name: 'sequences' | 'contextSize' | 'maxPrefixTokens' | 'maxAnswerTokens'): number =>
    integer(o[name] ?? labelDefaults[name], name, labelerFieldSpecs[name].min!);
  const gpu = o.gpu ?? labelDefaults.gpu;
  if (!llamaGpuChoices.includes(gpu)) throw new RangeError(`Expected one of ${llamaGpuChoices.join(', ')} for gpu but received ${String(gpu)}`);
  const gpuLayers = o.gpuLayers ?? labelDefaults.gpuLayers;
  if (gpuLayers !== 'auto' && gpuLayers !== 'max') integer(gpuLayers, 'gpuLayers', 0);
  if (gpu === 'cpu' && gpuLayers !== 'auto' && gpuLayers !== 0) throw new RangeError(`Expected 0 or 'auto' for gpuLayers with gpu 'cpu' but received ${gpuLayers}`);
  return {
    mode, threshold, gpu, gpuLayers,
    threads: integer(o.threads ?? defaultThreads(), 'threads', 1),
    sequences: integerField('sequences'),
    contextSize: integerField('contextSize'),
    maxPrefixTokens: integerField('maxPrefixTokens'),
    prefixReuse: checkBoolean(o.prefixReuse ?? labelDefaults.prefixReuse, 'prefixReuse'),
    maxAnswerTokens: integerField('maxAnswerTokens'),
  };
}

export async function createLlamaLabeler(options: LlamaLabelerOptions): Promise<LlamaLabeler> {
  const o = checkOptions(options);
  validateGguf(options.modelPath);
  const lib = await import('node-llama-cpp');
  const llama = await getSharedLlama(o.threads, o.gpu);
  const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: o.gpuLayers });
  let context: LlamaContext | undefined;
  try {
    const device: LabelerDevice = { backend: llama.gpu === false ? 'cpu' : llama.gpu, gpuLayers: model.gpuLayers, layers: model.fileInsights.totalLayers };
    const contextSize = Math.min(o.contextSize, model.trainContextSize);
    context = await model.createContext({ contextSize, sequences: o.sequences, flashAttention: false, threads: o.threads });
    const sequences = Array.from({ length: o.sequences }, () => context!.getSequence());
    const chatWrapper = lib.resolveChatWrapper(model);
    // Room for the longest tail (a candidate line, the template's closing, an answer).
    const maxPrefixTokens = Math.min(o.maxPrefixTokens, context.contextSize - 256);
    const renderer = new PromptRenderer(lib, model, chatWrapper, options.items, maxPrefixTokens);
    const answers = renderer.answerTokens();
    const grammar = o.mode === 'generate' ? await llama.createGrammar({ grammar: answerGrammar }) : undefined;
    return new LlamaLabelerImpl(lib, model, context, new SequencePool(sequences), renderer, answers, grammar, o, device);
  } catch (error) {
    await context?.dispose();
    await model.dispose();
    throw error;
  }
}

class LlamaLabelerImpl implements LlamaLabeler {
  readonly name: string;
  readonly model: string;
  readonly chatWrapper: string;
  readonly contextSize: number;
  readonly threads: number;
  readonly parallelUsers: number;
  private readonly counts: LabelerStats = emptyStats();
  /** Score mode: the next-token options that return the answer tokens' probabilities only. */
  private readonly answerOnly: { probabilities: true; options: { temperature: number; topK: number; topP: number; minP: number; tokenBias: TokenBias } };

  constructor(
    private readonly lib: typeof import('node-llama-cpp'),
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaContext,
    private readonly pool: SequencePool,
    private readonly renderer: PromptRenderer,
    private readonly answers: { positive: Token[]; negative: Token[] },
    private readonly grammar: LlamaGrammar | undefined,
    private readonly o: ReturnType<typeof checkOptions>,
    readonly device: LabelerDevice,
  ) {
    this.name = `llama-${o.mode}`;
    this.model = basename(llamaModel.filename ?? 'model.gguf');
    this.chatWrapper = renderer.chatWrapper.wrapperName;
    this.contextSize = context.contextSize;
    this.threads = o.threads;
    this.parallelUsers = o.sequences;
    const answerTokens = [...answers.positive, ...answers.negative];
    this.answerOnly = {
      probabilities: true,
      options: {
        temperature: 1, topP: 1, minP: 0, topK: answerTokens.length,
        tokenBias: new lib.TokenBias(llamaModel.tokenizer).set(answerTokens, { logit: ANSWER_LOGIT_BIAS }),
      },
    };
  }

  stats(): LabelerStats {
    return { ...this.counts };
  }

  async labelUser(_user: number, history: Uint32Array, candidates: Uint32Array): Promise<LabelResult[]> {
    const prompt = this.renderer.forUser(history);
    if (prompt.history.length < history.length) this.counts.historiesCut++;
    const sequence = await this.pool.acquire();
    try {
      if (this.o.prefixReuse) await this.loadPrefix(sequence, prompt.prefix);
      const results: LabelResult[] = [];
      for (const item of candidates) {
        const tail = prompt.tail(item);
        this.counts.fullPromptTokens += prompt.prefix.length + tail.length;
        let result = await this.answer(sequence, prompt.prefix, tail);
        if (result.label === 'unparsed') {
          this.counts.retries++;
          result = await this.answer(sequence, prompt.prefix, tail);
        }
        results.push({ item, ...result });
      }
      return results;
    } finally {
      this.pool.release(sequence);
    }
  }

  /** Leaves exactly `prefix` in the sequence, keeping whatever it already shares with it. */
  private async loadPrefix(sequence: LlamaContextSequence, prefix: Token[]): Promise<void> {
    const held = sequence.contextTokens;
    let same = 0;
    while (same < held.length && same < prefix.length && held[same] === prefix[same]) same++;
    if (same < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: same, end: sequence.nextTokenIndex }]);
    if (same < prefix.length) {
      await sequence.evaluateWithoutGeneratingNewTokens(prefix.slice(same));
      this.counts.promptTokens += prefix.length - same;
    }
  }

  /** One candidate: evaluates the tail after the loaded prefix (or the full prompt) and erases it again. */
  private async answer(sequence: LlamaContextSequence, prefix: Token[], tail: Token[]): Promise<{ label: Label; score?: number }> {
    const input = this.o.prefixReuse ? tail : [...prefix, ...tail];
    if (!this.o.prefixReuse) await sequence.clearHistory();
    try {
      this.counts.promptTokens += input.length;
      return this.o.mode === 'score' ? await this.score(sequence, input) : await this.generate(sequence, input);
    } finally {
      if (this.o.prefixReuse) await sequence.eraseContextTokenRanges([{ start: prefix.length, end: sequence.nextTokenIndex }]);
    }
  }

  private async score(sequence: LlamaContextSequence, input: Token[]): Promise<{ label: Label; score?: number }> {
    const last = input[input.length - 1];
    const output = await sequence.controlledEvaluate([...input.slice(0, -1), [last, { generateNext: this.answerOnly }]]);
    const probabilities = output[input.length - 1]?.next.probabilities;
    if (!probabilities) return { label: 'unparsed' };
    const mass = (tokens: Token[]): number => tokens.reduce((sum, t) => sum + (probabilities.get(t) ?? 0), 0);
    const yes = mass(this.answers.positive);
    const no = mass(this.answers.negative);
    if (!(yes + no > 0)) return { label: 'unparsed' };
    const score = yes / (yes + no);
    return { label: score >= this.o.threshold ? 'positive' : 'negative', score };
  }

  private async generate(sequence: LlamaContextSequence, input: Token[]): Promise<{ label: Label }> {
    const grammarEvaluationState = new this.lib.LlamaGrammarEvaluationState({ model: this.llamaModel, grammar: this.grammar! });
    const tokens: Token[] = [];
    for await (const token of sequence.evaluate(input, { grammarEvaluationState, temperature: 0 })) {
      tokens.push(token);
      if (tokens.length >= this.o.maxAnswerTokens) break;
    }
    this.counts.generatedTokens += tokens.length;
    return { label: parseAnswer(this.llamaModel.detokenize(tokens)) ?? 'unparsed' };
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.llamaModel.dispose();
  }
}
