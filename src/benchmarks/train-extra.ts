/**
 * The cost of extra positives: one MF and one LightGCN-3 epoch (dense Adam, rns, batch 2048,
 * 1 thread) on dtlns-sports with and without its LLM positives (../shared/datasets/
 * dtlns-sports/llm-positives.txt, about 1.1x the training pairs more), as
 * train({extraPositives}) runs it: the union of both is the training graph and the positives
 * of the epoch. Epochs of the two alternate (runInterleaved), so machine load hits both alike,
 * and the cost is the median of the rounds' paired ratios. The goal is epoch cost at most 1.1x the ratio of their positives. MF meets
 * it; LightGCN cannot by construction: each batch propagates over the whole graph, which the
 * labels enlarge too, so its cost grows with (batches x edges), both multiplied by the ratio.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { native, packageRoot, type ModelState } from '../native.js';
import { loadDataset } from '../data/load.js';
import { csrUnion } from '../data/csr.js';
import { importLabels } from '../labels/import.js';
import { initModel } from '../model/state.js';
import type { Csr } from '../data/types.js';
import { runInterleaved, throughputRatio, type BenchRow } from './harness.js';
import { adamDefaults } from '../defaults.js';

export async function benchExtraPositives(log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  const folder = join(packageRoot, '..', 'shared', 'datasets', 'dtlns-sports');
  const labels = join(folder, 'llm-positives.txt');
  if (!existsSync(join(folder, 'train.txt')) || !existsSync(labels)) {
    log(`  (${labels} is absent: the extra-positives epochs are skipped)`);
    return [];
  }
  const dataset = await loadDataset(folder);
  const extra = await importLabels(labels, dataset);
  const graphs: Array<{ name: string; graph: Csr }> = [
    { name: 'dtlns-sports', graph: dataset.train },
    { name: 'dtlns-sports-llm', graph: csrUnion(dataset.train, extra.positives) },
  ];
  const nnz = graphs.map((g) => g.graph.indptr[g.graph.rows]);
  const positives = nnz[1] / nnz[0];
  const rows: BenchRow[] = [];
  for (const { model, layers, tag } of [{ model: 'mf', layers: 0, tag: 'mf' }, { model: 'lightgcn', layers: 3, tag: 'lightgcn3' }] as const) {
    log(`train: ${tag} epochs on dtlns-sports, ${nnz[0]} positives vs ${nnz[1]} with the LLM positives (${positives.toFixed(2)}x), 1 thread, interleaved`);
    const states: ModelState[] = graphs.map(() => initModel(dataset.nUsers, dataset.nItems, 64, 3, 0.1));
    const seeds = graphs.map(() => 0);
    const pair = await runInterleaved('train', graphs.map(({ name, graph }, g) => ({
      name: `native-epoch-1t-${tag}-${name}`, unit: 'samples', unitsPerRun: nnz[g],
      fn: async () => {
        const stats = await native.trainEpoch({
          ...states[g], model, layers, trainIndptr: graph.indptr, trainIndices: graph.indices, optimizer: 'adam',
          lr: 1e-3, ...adamDefaults, l2: 1e-4, threads: 1, batch: 2048, seed: ++seeds[g],
        });
        states[g].step = stats.step;
      },
    })), quick ? 2 : 4, log);
    // throughputRatio compares positives per second; times the positives' ratio, it is epoch seconds, labelled over plain.
    const cost = throughputRatio(pair[0], pair[1]).ratio * nnz[1] / nnz[0];
    log(`  ${tag}: extra-positives epoch / plain epoch = ${cost.toFixed(2)}x for ${positives.toFixed(2)}x the positives (${(cost / positives).toFixed(2)}x per positive; goal <= 1.10x)`);
    rows.push(...pair);
  }
  return rows;
}
