/** Full-ranking evaluation: every item is ranked, the mask's items are removed, metrics averaged over users with truth. */
import type { Csr } from '../data/types.js';
import { evalDefaults } from '../defaults.js';
import { rankingMetrics, type Metrics } from './metrics.js';
import { describe, maskedTopK } from './topk.js';

export interface EvaluateOptions {
  ks?: number[];
  threads?: number;
  /** Items removed from each user's ranking: by default the ORIGINAL training interactions. */
  mask?: Csr;
}

/** Users that have at least one item in `truth`. */
export function usersWithItems(truth: Csr): Uint32Array {
  const users: number[] = [];
  for (let u = 0; u < truth.rows; u++) if (truth.indptr[u + 1] > truth.indptr[u]) users.push(u);
  return Uint32Array.from(users);
}

/** Metric cut-offs: a non-empty list of positive integers. */
export function checkKs(ks: unknown): asserts ks is number[] {
  if (!Array.isArray(ks)) throw new TypeError(`Expected an array of cut-offs for ks but received ${describe(ks)}`);
  if (ks.length === 0) throw new RangeError('Expected at least one cut-off in ks but received []');
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new RangeError(`Expected positive integers in ks but received ${String(k)}`);
}

/** The ground truth: a users x items CSR whose item ids are in range (an id past the items would silently never hit). */
function checkTruth(truth: unknown, userEmb: Float32Array, itemEmb: Float32Array, dim: number): asserts truth is Csr {
  const t = truth as Csr;
  if (t === null || typeof t !== 'object' || !(t.indptr instanceof Uint32Array) || !(t.indices instanceof Uint32Array)) {
    throw new TypeError(`Expected a CSR ({rows, cols, indptr, indices}) for truth but received ${describe(truth)}`);
  }
  if (t.indptr.length !== t.rows + 1 || t.indptr[t.rows] !== t.indices.length) {
    throw new RangeError(`Expected truth.indptr to hold rows + 1 = ${t.rows + 1} offsets ending at ${t.indices.length} but it holds ${t.indptr.length}`);
  }
  // Bad embeddings or dim: maskedTopK names them.
  if (!(userEmb instanceof Float32Array && itemEmb instanceof Float32Array && Number.isInteger(dim) && dim > 0)) return;
  const nUsers = Math.floor(userEmb.length / dim), nItems = Math.floor(itemEmb.length / dim);
  if (t.rows > nUsers) throw new RangeError(`Expected truth to have at most ${nUsers} rows (the users of userEmb) but it has ${t.rows}`);
  for (let p = 0; p < t.indices.length; p++) {
    if (t.indices[p] >= nItems) throw new RangeError(`Expected truth item ids below ${nItems} (the items of itemEmb) but truth.indices[${p}] is ${t.indices[p]}`);
  }
}

export async function evaluateEmbeddings(
  userEmb: Float32Array, itemEmb: Float32Array, dim: number, truth: Csr, options: EvaluateOptions = {},
): Promise<Metrics> {
  const ks = options.ks ?? evalDefaults.ks;
  checkKs(ks);
  checkTruth(truth, userEmb, itemEmb, dim);
  const users = usersWithItems(truth);
  const k = Math.max(...ks);
  const { items } = await maskedTopK(userEmb, itemEmb, dim, users, k, {
    ...(options.mask ? { mask: options.mask } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  });
  return rankingMetrics(items, k, users, truth, ks);
}
