/** Top-K recommendations from an exported ONNX model with onnxruntime-node (CPU), in batches of users. */
import { readFileSync } from 'node:fs';
// Loaded on first use (an optional dependency), so commands that never score do not need onnxruntime.
import type * as Ort from 'onnxruntime-node';
import type { Csr } from '../data/types.js';
import { describe } from '../eval/topk.js';
import { defaultThreads } from '../defaults.js';
import { onnxNames } from './onnx.js';
import { readModelHeader } from './onnx-proto.js';
import { importOnnxRuntime } from '../util/optional.js';

/** Item index reported where a user has fewer than k unmasked items (as the native maskedTopK). */
export const NO_ITEM = 0xffffffff;

export const scoreDefaults = { batchUsers: 1024 };

export interface OnnxModelInfo {
  nUsers: number;
  nItems: number;
  dim: number;
  k: number;
  /** Whether the graph has the `exclude_items` input. */
  masked: boolean;
}

export interface RecommendOptions {
  /** Items to drop per user (users x items, usually the training set); needs a model exported with maskTraining. */
  exclude?: Csr;
  /** Users per ORT run (default 1024). */
  batchUsers?: number;
}

export interface Recommendations {
  k: number;
  /** users.length x k item indices, best first (NO_ITEM past a user's unmasked items). */
  items: Uint32Array;
  /** users.length x k scores (-Infinity past a user's unmasked items). */
  scores: Float32Array;
}

/** Reads the bytes and checks they are a model written by exportOnnx (its metadata gives the shapes). */
export function readOnnxModel(source: Uint8Array | string): { bytes: Uint8Array; info: OnnxModelInfo } {
  const label = typeof source === 'string' ? source : 'model bytes';
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    try {
      bytes = readFileSync(source);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`${source}: cannot read the ONNX model${code === 'ENOENT' ? ': no such file' : `: ${(error as Error).message}`}`);
    }
  } else if (source instanceof Uint8Array) bytes = source;
  else throw new TypeError(`Expected a Uint8Array or a path for model but received ${describe(source)}`);
  let metadata: Record<string, string>;
  try {
    metadata = readModelHeader(bytes).metadata;
  } catch (error) {
    throw new Error(`${label}: not a readable ONNX model (${(error as Error).message})`);
  }
  const m = onnxNames.meta;
  const number = (key: string): number => {
    const value = Number(metadata[key]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${label}: not an ONNX model written by dtlns-native export (metadata ${key} is missing)`);
    return value;
  };
  const info = { nUsers: number(m.users), nItems: number(m.items), dim: number(m.dim), k: number(m.k), masked: metadata[m.masked] === onnxNames.exclude };
  return { bytes, info };
}

/** An ORT session over an exported model; reuse it for many calls, then release() it. */
export class OnnxRecommender {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly info: OnnxModelInfo,
  ) {}

  static async open(source: Uint8Array | string, options: { threads?: number } = {}): Promise<OnnxRecommender> {
    const { bytes, info } = readOnnxModel(source);
    const threads = options.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`Expected a positive integer for options.threads but received ${threads}`);
    const ort = await importOnnxRuntime();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'] });
    } catch (error) {
      throw new Error(`${typeof source === 'string' ? source : 'model bytes'}: onnxruntime cannot load the model: ${(error as Error).message}`);
    }
    return new OnnxRecommender(ort, session, info);
  }

  async recommend(users: Uint32Array, options: RecommendOptions = {}): Promise<Recommendations> {
    const { nUsers, nItems, k, masked } = this.info;
    if (!(users instanceof Uint32Array)) throw new TypeError(`Expected Uint32Array for users but received ${describe(users)}`);
    const batch = options.batchUsers ?? scoreDefaults.batchUsers;
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`Expected a positive integer for options.batchUsers but received ${batch}`);
    for (const u of users) if (u >= nUsers) throw new RangeError(`Expected user indices below ${nUsers} (the model's user count) for users but received ${u}`);
    const exclude = options.exclude;
    if (exclude) {
      if (!masked) throw new RangeError('Expected a model exported with maskTraining for options.exclude, but this model has no exclude_items input');
      if (exclude.rows !== nUsers || exclude.cols !== nItems) {
        throw new RangeError(`Expected options.exclude of shape ${nUsers} x ${nItems} but received ${exclude.rows} x ${exclude.cols}`);
      }
    }
    const items = new Uint32Array(users.length * k);
    const scores = new Float32Array(users.length * k);
    for (let start = 0; start < users.length; start += batch) {
      const part = users.subarray(start, Math.min(users.length, start + batch));
      const feeds: Record<string, Ort.Tensor> = { [onnxNames.userIds]: new this.ort.Tensor('int64', BigInt64Array.from(part, (u) => BigInt(u)), [part.length]) };
      if (masked) feeds[onnxNames.exclude] = excludeTensor(this.ort, part, exclude);
      const out = await this.session.run(feeds);
      const topItems = out[onnxNames.items].data as BigInt64Array;
      const topScores = out[onnxNames.scores].data as Float32Array;
      for (let i = 0; i < part.length * k; i++) {
        const score = topScores[i];
        items[start * k + i] = score === -Infinity ? NO_ITEM : Number(topItems[i]);
        scores[start * k + i] = score;
      }
    }
    return { k, items, scores };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Each user's excluded items as a [N, M] int64 matrix padded with -1 (the graph's sentinel column); M >= 1. */
function excludeTensor(ort: typeof Ort, users: Uint32Array, exclude: Csr | undefined): Ort.Tensor {
  let width = 1;
  if (exclude) for (const u of users) width = Math.max(width, exclude.indptr[u + 1] - exclude.indptr[u]);
  const data = new BigInt64Array(users.length * width).fill(-1n);
  if (exclude) {
    users.forEach((u, row) => {
      for (let p = exclude.indptr[u], j = 0; p < exclude.indptr[u + 1]; p++, j++) data[row * width + j] = BigInt(exclude.indices[p]);
    });
  }
  return new ort.Tensor('int64', data, [users.length, width]);
}

/** One-shot: open the model, rank for `users`, release. */
export async function recommendOnnx(
  model: Uint8Array | string, users: Uint32Array, options: RecommendOptions & { threads?: number } = {},
): Promise<Recommendations> {
  const recommender = await OnnxRecommender.open(model, options.threads === undefined ? {} : { threads: options.threads });
  try {
    return await recommender.recommend(users, options);
  } finally {
    await recommender.release();
  }
}
