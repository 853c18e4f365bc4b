/**
 * The cost of extra positives: one MF and one LightGCN-3 epoch (dense Adam, rns, batch 2048,
 * 1 thread) on dtlns-sports with and without its LLM positives (../shared/datasets/
 * dtlns-sports/llm-positives.txt, about 1.1x the training pairs more), as
 * train({extraPositives}) runs it: the union of both is the training graph and the positives
 * of the epoch. Epochs of the two alternate (interleaved rounds, medians), so machine load
 * hits both alike. The goal is epoch cost at most 1.1x the ratio of their positives. MF meets
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
import { formatRate, type BenchRow } from './harness.js';
import { adamDefaults } from '../defaults.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

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
    const seconds: number[][] = graphs.map(() => []);
    const rounds = quick ? 2 : 4;
    // Round 0 warms up (allocation, page faults) and is not counted.
    for (let round = 0; round <= rounds; round++) {
      for (let g = 0; g < graphs.length; g++) {
        const { graph } = graphs[g];
        const start = performance.now();
        const stats = await native.trainEpoch({
          ...states[g], model, layers, trainIndptr: graph.indptr, trainIndices: graph.indices, optimizer: 'adam',
          lr: 1e-3, ...adamDefaults, l2: 1e-4, threads: 1, batch: 2048, seed: round + 1,
        });
        states[g].step = stats.step;
        if (round > 0) seconds[g].push((performance.now() - start) / 1000);
      }
    }
    const pair: BenchRow[] = graphs.map((g, k) => {
      const sec = median(seconds[k]);
      const spread = (Math.max(...seconds[k]) - Math.min(...seconds[k])) / 2 / sec * 100;
      return { suite: 'train', name: `native-epoch-1t-${tag}-${g.name}`, unit: 'samples', perSecond: nnz[k] / sec, secondsPerRun: sec, rme: spread, samples: seconds[k].length };
    });
    for (const row of pair) {
      log(`  ${row.name.padEnd(40)} ${formatRate(row.perSecond).padStart(12)} ${row.unit}/s  ${(row.secondsPerRun * 1000).toFixed(2).padStart(10)} ms/run  median of ${row.samples}`);
    }
    const cost = pair[1].secondsPerRun / pair[0].secondsPerRun;
    log(`  ${tag}: extra-positives epoch / plain epoch = ${cost.toFixed(2)}x for ${positives.toFixed(2)}x the positives (${(cost / positives).toFixed(2)}x per positive; goal <= 1.10x)`);
    rows.push(...pair);
  }
  return rows;
}
