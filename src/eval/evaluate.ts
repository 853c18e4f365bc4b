/** Full-ranking evaluation: every item is ranked, the mask's items are removed, metrics averaged over users with truth. */
import type { Csr } from '../data/types.js';
import { evalDefaults } from '../defaults.js';
import { rankingMetrics, type Metrics } from './metrics.js';
import { maskedTopK } from './topk.js';

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

export async function evaluateEmbeddings(
  userEmb: Float32Array, itemEmb: Float32Array, dim: number, truth: Csr, options: EvaluateOptions = {},
): Promise<Metrics> {
  const ks = options.ks ?? evalDefaults.ks;
  const users = usersWithItems(truth);
  const k = Math.max(...ks);
  const { items } = await maskedTopK(userEmb, itemEmb, dim, users, k, {
    ...(options.mask ? { mask: options.mask } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  });
  return rankingMetrics(items, k, users, truth, ks);
}
