/** Plain TypeScript masked top-K: the reference the native kernel is checked against. */
import type { Csr } from '../data/types.js';

export function referenceMaskedTopK(
  userEmb: Float32Array, itemEmb: Float32Array, dim: number, users: Uint32Array, k: number, mask?: Csr,
): { items: Uint32Array; scores: Float32Array } {
  const nItems = itemEmb.length / dim;
  const items = new Uint32Array(users.length * k).fill(0xffffffff);
  const scores = new Float32Array(users.length * k).fill(-Infinity);
  for (let q = 0; q < users.length; q++) {
    const u = users[q];
    const masked = new Set<number>();
    if (mask) for (let p = mask.indptr[u]; p < mask.indptr[u + 1]; p++) masked.add(mask.indices[p]);
    const ranked: Array<{ item: number; score: number }> = [];
    for (let j = 0; j < nItems; j++) {
      if (masked.has(j)) continue;
      let s = 0;
      for (let d = 0; d < dim; d++) s += userEmb[u * dim + d] * itemEmb[j * dim + d];
      ranked.push({ item: j, score: Math.fround(s) });
    }
    ranked.sort((a, b) => b.score - a.score || a.item - b.item);
    for (let r = 0; r < Math.min(k, ranked.length); r++) {
      items[q * k + r] = ranked[r].item;
      scores[q * k + r] = ranked[r].score;
    }
  }
  return { items, scores };
}
