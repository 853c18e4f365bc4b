/**
 * Export and serving: users/s of top-20 recommendations from the exported ONNX graph run by
 * onnxruntime-node (batches of 1024, 1 and 2 intra-op threads) next to the native masked top-K,
 * and the time to export. The serving cases run in interleaved rounds (medians). Fair settings: same embeddings, same users, same k, training items
 * excluded in both (ORT through the exclude_items input).
 */
import { exportOnnx } from '../export/onnx.js';
import { OnnxRecommender } from '../export/score.js';
import { maskedTopK } from '../eval/topk.js';
import { loadLine, ratioLine, runCases, runInterleaved, type BenchRow, type BenchSettings } from './harness.js';
import { benchDataset } from './data.js';
import { mulberry32 } from '../util/random.js';

export async function benchExport(settings: BenchSettings, log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  const dataset = await benchDataset(quick);
  const dim = 64, k = 20, batchUsers = 1024;
  const rand = mulberry32(13);
  const userEmb = Float32Array.from({ length: dataset.nUsers * dim }, () => rand() - 0.5);
  const itemEmb = Float32Array.from({ length: dataset.nItems * dim }, () => rand() - 0.5);
  const users = Uint32Array.from({ length: Math.min(dataset.nUsers, quick ? 1024 : 4096) }, (_, u) => u);
  const mask = dataset.train;
  const model = exportOnnx(userEmb, itemEmb, dim, { k, maskTraining: true });
  const input = `${users.length}u-${dataset.nItems}i-d${dim}-top${k}`;
  log(`export: top-${k} of ${dataset.nItems} items for ${users.length} users (${dataset.name}), model ${(model.length / 2 ** 20).toFixed(1)} MiB`);
  const ort1 = await OnnxRecommender.open(model, { threads: 1 });
  const ort2 = await OnnxRecommender.open(model, { threads: 2 });
  try {
    // Serving cases alternate in rounds (medians), so load on the shared machine hits them alike.
    log(`  ${loadLine()} before the serving rounds`);
    const rows = await runInterleaved('export', [
      { name: `ort-1t-${input}`, fn: () => ort1.recommend(users, { exclude: mask, batchUsers }), unitsPerRun: users.length, unit: 'users' },
      { name: `ort-2t-${input}`, fn: () => ort2.recommend(users, { exclude: mask, batchUsers }), unitsPerRun: users.length, unit: 'users' },
      { name: `native-1t-${input}`, fn: () => maskedTopK(userEmb, itemEmb, dim, users, k, { mask, threads: 1 }), unitsPerRun: users.length, unit: 'users' },
      { name: `native-2t-${input}`, fn: () => maskedTopK(userEmb, itemEmb, dim, users, k, { mask, threads: 2 }), unitsPerRun: users.length, unit: 'users' },
    ], quick ? 3 : 7, log);
    log(`  ${loadLine()} after`);
    rows.push(...(await runCases('export', [
      { name: `export-${dataset.nUsers}u-${dataset.nItems}i-d${dim}`, fn: () => exportOnnx(userEmb, itemEmb, dim, { k, maskTraining: true }), unitsPerRun: 1, unit: 'models' },
    ], settings, log)));
    for (const [a, b] of [['ort-1t', 'native-1t'], ['ort-2t', 'ort-1t'], ['native-2t', 'native-1t']]) {
      const line = ratioLine(rows, `${a}-${input}`, `${b}-${input}`);
      if (line) log(line);
    }
    return rows;
  } finally {
    await ort1.release();
    await ort2.release();
  }
}

