import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jaccardGraph, spectralEmbedding, structuralFeatures, type SparseGraph } from '../src/trees/spectral.js';
import { jaccardGraphReference, normalisedAdjacency, spectralEmbeddingReference, symmetricEigen } from '../src/trees/spectral-reference.js';
import { buildBalancedTree } from '../src/trees/kmeans.js';
import { adjustedMutualInformation } from '../src/trees/ami.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { native } from '../src/native.js';
import type { Csr } from '../src/data/types.js';
import { mulberry32 } from '../src/util/random.js';


/** Users x items with community structure: each user mostly picks items of one of `groups` groups. */
function communityCsr(users: number, items: number, groups: number, perUser: number, seed: number): Csr {
  const rand = mulberry32(seed);
  const indptr = new Uint32Array(users + 1);
  const indices: number[] = [];
  const size = items / groups;
  for (let u = 0; u < users; u++) {
    const g = u % groups;
    const set = new Set<number>();
    const count = 2 + Math.floor(rand() * perUser);
    while (set.size < count) set.add(rand() < 0.85 ? Math.floor(g * size + rand() * size) : Math.floor(rand() * items));
    indices.push(...[...set].sort((a, b) => a - b));
    indptr[u + 1] = indices.length;
  }
  return { rows: users, cols: items, indptr, indices: Uint32Array.from(indices) };
}

function graphAsDense(g: SparseGraph): Float64Array {
  const m = new Float64Array(g.n * g.n);
  for (let i = 0; i < g.n; i++) for (let k = g.indptr[i]; k < g.indptr[i + 1]; k++) m[i * g.n + g.indices[k]] = g.values[k];
  return m;
}

test('Jaccard graph: native equals the set-intersection reference', async () => {
  const train = communityCsr(120, 60, 3, 6, 1);
  const graph = await jaccardGraph(train, { threads: 2 });
  const reference = jaccardGraphReference(train);
  assert.deepEqual(graph.indptr, reference.indptr);
  assert.deepEqual(graph.indices, reference.indices);
  for (let k = 0; k < reference.values.length; k++) assert.ok(Math.abs(graph.values[k] - reference.values[k]) < 1e-6);
  // Symmetric, no diagonal.
  const dense = graphAsDense(graph);
  for (let i = 0; i < graph.n; i++) {
    assert.equal(dense[i * graph.n + i], 0);
    for (let j = 0; j < graph.n; j++) assert.equal(dense[i * graph.n + j], dense[j * graph.n + i]);
  }
});

test('Jaccard graph: topK keeps each item\'s strongest neighbours, symmetrised by union', async () => {
  const train = communityCsr(200, 80, 4, 8, 2);
  const full = graphAsDense(await jaccardGraph(train, { threads: 1 }));
  const topK = 5;
  const pruned = await jaccardGraph(train, { topK, threads: 2 });
  const kept = graphAsDense(pruned);
  const n = 80;
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: n }, (_, j) => ({ j, v: full[i * n + j] })).filter((e) => e.v > 0);
    row.sort((a, b) => b.v - a.v || a.j - b.j);
    const mine = new Set(row.slice(0, topK).map((e) => e.j));
    for (let j = 0; j < n; j++) {
      const wanted = mine.has(j) || (full[j * n + i] > 0 && topRow(full, j, n, topK).has(i));
      assert.equal(kept[i * n + j] > 0, wanted, `entry (${i}, ${j})`);
      if (wanted) assert.equal(kept[i * n + j], full[i * n + j]);
    }
  }
});

function topRow(full: Float64Array, i: number, n: number, k: number): Set<number> {
  const row = Array.from({ length: n }, (_, j) => ({ j, v: full[i * n + j] })).filter((e) => e.v > 0);
  row.sort((a, b) => b.v - a.v || a.j - b.j);
  return new Set(row.slice(0, k).map((e) => e.j));
}

/** Checks orthonormality, residuals against the true N, orthogonality to the trivial vector and the sign rule. */
function checkEigenvectors(graph: SparseGraph, features: Float32Array, eigenvalues: Float64Array, dims: number, tolerance: number): void {
  const n = graph.n;
  const { matrix, trivial } = normalisedAdjacency(graph);
  for (let a = 0; a < dims; a++) {
    for (let b = a; b < dims; b++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += features[i * dims + a] * features[i * dims + b];
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-4, `<v${a}, v${b}> = ${dot}`);
    }
    let onTrivial = 0, residual = 0, largest = 0;
    for (let i = 0; i < n; i++) {
      onTrivial += trivial[i] * features[i * dims + a];
      let nv = 0;
      for (let j = 0; j < n; j++) nv += matrix[i * n + j] * features[j * dims + a];
      residual += (nv - eigenvalues[a] * features[i * dims + a]) ** 2;
      if (Math.abs(features[i * dims + a]) > Math.abs(largest)) largest = features[i * dims + a];
    }
    assert.ok(Math.abs(onTrivial) < 1e-4, `eigenvector ${a} has ${onTrivial} on the trivial vector`);
    assert.ok(Math.sqrt(residual) < tolerance, `residual of eigenvector ${a}: ${Math.sqrt(residual)}`);
    assert.ok(largest > 0, `eigenvector ${a}: its largest-magnitude entry is positive`);
  }
  for (let a = 1; a < dims; a++) assert.ok(eigenvalues[a] <= eigenvalues[a - 1]);
}

test('spectral embedding (block Krylov): eigenvalues equal a dense Jacobi decomposition; vectors orthonormal with small residuals', async () => {
  const graph = await jaccardGraph(communityCsr(400, 168, 6, 10, 3), { threads: 2 });
  const dims = 8;
  const result = await spectralEmbedding(graph, { dims, blockSize: 4, basisSize: 40, tolerance: 1e-6, seed: 1, threads: 2 });
  assert.equal(result.dense, false);
  assert.equal(result.converged, true);
  const reference = spectralEmbeddingReference(graph, dims);
  for (let a = 0; a < dims; a++) assert.ok(Math.abs(result.eigenvalues[a] - reference.eigenvalues[a]) < 1e-5, `eigenvalue ${a}`);
  checkEigenvectors(graph, result.features, result.eigenvalues, dims, 1e-4);
  for (const r of result.residuals) assert.ok(r < 1e-5);
  // The trivial eigenvalue 1 is not among them, and the 6 planted groups show as 5 large eigenvalues.
  assert.ok(result.eigenvalues[0] < 0.999);
  assert.ok(result.eigenvalues[4] > 2 * result.eigenvalues[5], `eigenvalues ${Array.from(result.eigenvalues)}`);
  // Deterministic per seed, whatever the thread count.
  const again = await spectralEmbedding(graph, { dims, blockSize: 4, basisSize: 40, tolerance: 1e-6, seed: 1, threads: 1 });
  assert.deepEqual(again.features, result.features);
});

test('spectral embedding (dense path, tiny graph): equals the dense reference', async () => {
  const graph = await jaccardGraph(communityCsr(40, 14, 2, 4, 5), { threads: 1 });
  const result = await spectralEmbedding(graph, { dims: 4, seed: 1, threads: 1 });
  assert.equal(result.dense, true);
  const reference = spectralEmbeddingReference(graph, 4);
  // The kernel stores N in float32: agreement to about 1e-7.
  for (let a = 0; a < 4; a++) assert.ok(Math.abs(result.eigenvalues[a] - reference.eigenvalues[a]) < 1e-6);
  checkEigenvectors(graph, result.features, result.eigenvalues, 4, 1e-6);
});

test('symmetric Jacobi reference: reconstructs a known matrix', () => {
  const a = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 1]);
  const { values, vectors } = symmetricEigen(a, 3);
  const trace = 4 + 3 + 1;
  assert.ok(Math.abs(values[0] + values[1] + values[2] - trace) < 1e-12);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let sum = 0;
      for (let k = 0; k < 3; k++) sum += vectors[i * 3 + k] * values[k] * vectors[j * 3 + k];
      assert.ok(Math.abs(sum - a[i * 3 + j]) < 1e-12);
    }
  }
});

test('structural tree of the synthetic dataset (small preset) recovers the planted top-level groups (AMI >= 0.8)', async () => {
  const dataset = generateSynthetic({ preset: 'small' });
  const features = await structuralFeatures(dataset.train, { threads: 2 });
  assert.equal(features.converged, true);
  const tree = await buildBalancedTree(features.features, dataset.nItems, features.dims, { threads: 2 });
  const first = Int32Array.from({ length: dataset.nItems }, (_, i) => tree.paths[i * tree.maxDepth]);
  const ami = adjustedMutualInformation(first, dataset.taxonomy!.topGroup);
  assert.ok(ami >= 0.8, `AMI ${ami}`);
});

test('structural features: eigenvalue scaling and row normalisation transform the eigenvectors', async () => {
  const train = communityCsr(400, 168, 6, 10, 7);
  const options = { dims: 6, blockSize: 4, basisSize: 40, seed: 3, threads: 2 };
  const raw = await structuralFeatures(train, options);
  const scaled = await structuralFeatures(train, { ...options, scaling: 'eigenvalue' });
  for (let k = 0; k < raw.features.length; k++) assert.ok(Math.abs(scaled.features[k] - raw.features[k] * raw.eigenvalues[k % 6]) < 1e-6);
  const normalised = await structuralFeatures(train, { ...options, scaling: 'eigenvalue', rowNormalize: true });
  for (let i = 0; i < 168; i++) {
    let norm = 0, dot = 0, scaledNorm = 0;
    for (let d = 0; d < 6; d++) {
      norm += normalised.features[i * 6 + d] ** 2;
      dot += normalised.features[i * 6 + d] * scaled.features[i * 6 + d];
      scaledNorm += scaled.features[i * 6 + d] ** 2;
    }
    if (scaledNorm === 0) continue;
    assert.ok(Math.abs(norm - 1) < 1e-5, `row ${i} has norm ${norm}`);
    assert.ok(Math.abs(dot - Math.sqrt(scaledNorm)) < 1e-5, `row ${i} keeps its direction`);
  }
});

test('BAD CALL - Jaccard and spectral inputs name the argument', async () => {
  const train = communityCsr(30, 20, 2, 4, 1);
  await assert.rejects(jaccardGraph({ ...train, indptr: new Uint32Array(5) }), { name: 'RangeError', message: /train\.indptr/ });
  await assert.rejects(jaccardGraph({ ...train, indices: [1, 2] as unknown as Uint32Array }), { name: 'TypeError', message: /train/ });
  await assert.rejects(jaccardGraph(train, { topK: -1 }), { name: 'RangeError', message: /options\.topK/ });
  const outOfRange = { ...train, indices: train.indices.slice() };
  outOfRange.indices[3] = 20;
  await assert.rejects(jaccardGraph(outOfRange), { name: 'RangeError', message: /indices\[3\] is 20/ });
  const unsorted = { ...train, indices: train.indices.slice() };
  [unsorted.indices[0], unsorted.indices[1]] = [unsorted.indices[1], unsorted.indices[0]];
  await assert.rejects(jaccardGraph(unsorted), { name: 'RangeError', message: /ascending/ });

  const graph = await jaccardGraph(train);
  await assert.rejects(spectralEmbedding(graph, { dims: 20 }), { name: 'RangeError', message: /options\.dims/ });
  await assert.rejects(spectralEmbedding(graph, { dims: 0 }), { name: 'RangeError', message: /options\.dims/ });
  await assert.rejects(spectralEmbedding(graph, { blockSize: 0, dims: 2 }), { name: 'RangeError', message: /options\.blockSize/ });
  await assert.rejects(structuralFeatures(train, { dims: 2, rowNormalize: 1 as never }), { name: 'TypeError', message: /options\.rowNormalize/ });
  await assert.rejects(spectralEmbedding({ ...graph, values: new Float64Array(graph.indices.length) as unknown as Float32Array }), { name: 'TypeError', message: /graph/ });
  const negative = { ...graph, values: graph.values.slice() };
  negative.values[0] = -1;
  assert.throws(
    () => native.spectralEmbedding({ indptr: negative.indptr, indices: negative.indices, values: negative.values, dims: 2, seed: 1, threads: 1 }),
    { name: 'RangeError', message: /values\[0\]/ },
  );
  assert.throws(
    () => native.spectralEmbedding({ indptr: graph.indptr, indices: graph.indices, values: graph.values.subarray(1), dims: 2, seed: 1, threads: 1 }),
    { name: 'RangeError', message: /values/ },
  );
  assert.throws(() => native.jaccardGraph({ indptr: train.indptr, indices: train.indices, nItems: 0, threads: 1 }), { name: 'RangeError', message: /nItems/ });
});
