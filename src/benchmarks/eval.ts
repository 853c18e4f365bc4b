/**
 * Evaluation: masked top-50 over all items for every user, native (1 and 2 threads)
 * next to the plain-TS reference (timed on a subset of users; the figure is users/s).
 * Fair settings: same embeddings, same mask, same k.
 */
import { maskedTopK } from '../eval/topk.js';
import { referenceMaskedTopK } from '../eval/topk-reference.js';
import type { Csr } from '../data/types.js';
import { ratioLine, runCases, type BenchRow, type BenchSettings } from './harness.js';
import { benchDataset } from './data.js';
import { mulberry32 } from '../util/random.js';

export async function benchEval(settings: BenchSettings, log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  const dataset = await benchDataset(quick);
  const dim = 64, k = 50;
  const rand = mulberry32(11);
  const userEmb = Float32Array.from({ length: dataset.nUsers * dim }, () => rand() - 0.5);
  const itemEmb = Float32Array.from({ length: dataset.nItems * dim }, () => rand() - 0.5);
  const mask: Csr = dataset.train;
  const allUsers = Uint32Array.from({ length: dataset.nUsers }, (_, u) => u);
  const subset = allUsers.subarray(0, quick ? 16 : 64);
  const input = `${dataset.nUsers}u-${dataset.nItems}i-d${dim}-top${k}`;
  log(`eval: masked top-${k} over ${dataset.nItems} items, ${dataset.nUsers} users (${dataset.name})`);
  const rows = await runCases('eval', [
    { name: `native-1t-${input}`, fn: () => maskedTopK(userEmb, itemEmb, dim, allUsers, k, { mask, threads: 1 }), unitsPerRun: allUsers.length, unit: 'users' },
    { name: `native-2t-${input}`, fn: () => maskedTopK(userEmb, itemEmb, dim, allUsers, k, { mask, threads: 2 }), unitsPerRun: allUsers.length, unit: 'users' },
    { name: `ts-${input}`, fn: () => referenceMaskedTopK(userEmb, itemEmb, dim, subset, k, mask), unitsPerRun: subset.length, unit: 'users' },
  ], settings, log);
  for (const line of [ratioLine(rows, `native-1t-${input}`, `ts-${input}`), ratioLine(rows, `native-2t-${input}`, `native-1t-${input}`)]) if (line) log(line);
  return rows;
}

