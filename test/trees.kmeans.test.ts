import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBalancedTree, type BalancedTree } from '../src/trees/kmeans.js';
import { buildBalancedTreeReference, maxChildSize } from '../src/trees/kmeans-reference.js';
import { adjustedMutualInformation } from '../src/trees/ami.js';
import { native } from '../src/native.js';
import { mulberry32 } from '../src/util/random.js';


function uniformPoints(n: number, dim: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n * dim }, () => rand());
}

/** Gaussian-ish blobs around well-separated centres; labels[i] = blob of point i. */
function blobs(n: number, dim: number, k: number, seed: number): { points: Float32Array; labels: Int32Array } {
  const rand = mulberry32(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: dim }, () => rand() * 40));
  const points = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * k);
    labels[i] = c;
    for (let d = 0; d < dim; d++) points[i * dim + d] = centres[c][d] + (rand() + rand() + rand() - 1.5);
  }
  return { points, labels };
}

function pathKey(tree: BalancedTree, i: number): string {
  return Array.from(tree.paths.subarray(i * tree.maxDepth, i * tree.maxDepth + tree.lengths[i])).join('-');
}

/** Checks the structure: leaves <= leafSize, children within the rebalancing bound, paths consistent with nodes. */
function checkInvariants(tree: BalancedTree, n: number, branching: number, leafSize: number): void {
  const { nodes } = tree;
  for (let v = 0; v < nodes.count; v++) {
    if (nodes.childCount[v] === 0) {
      assert.ok(nodes.size[v] <= leafSize, `leaf ${v} holds ${nodes.size[v]} > ${leafSize} items`);
      continue;
    }
    assert.ok(nodes.size[v] > leafSize, `internal node ${v} holds only ${nodes.size[v]} items`);
    assert.ok(nodes.childCount[v] >= 2 && nodes.childCount[v] <= branching);
    let total = 0;
    for (let c = 0; c < nodes.childCount[v]; c++) {
      const child = nodes.firstChild[v] + c;
      assert.equal(nodes.parent[child], v);
      assert.equal(nodes.childIndex[child], c);
      assert.equal(nodes.depth[child], nodes.depth[v] + 1);
      assert.ok(nodes.size[child] >= 1);
      assert.ok(nodes.size[child] <= maxChildSize(nodes.size[v], branching), `child ${child} of ${v} is over 1.6x the average`);
      total += nodes.size[child];
    }
    assert.equal(total, nodes.size[v]);
  }
  const perLeaf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const leaf = tree.leaf[i];
    assert.equal(nodes.childCount[leaf], 0);
    assert.equal(tree.lengths[i], nodes.depth[leaf]);
    perLeaf.set(leaf, (perLeaf.get(leaf) ?? 0) + 1);
    // The path walks from the root to the item's leaf.
    let v = 0;
    for (let d = 0; d < tree.lengths[i]; d++) v = nodes.firstChild[v] + tree.paths[i * tree.maxDepth + d];
    assert.equal(v, leaf);
    for (let d = tree.lengths[i]; d < tree.maxDepth; d++) assert.equal(tree.paths[i * tree.maxDepth + d], -1);
  }
  for (const [leaf, count] of perLeaf) assert.equal(count, nodes.size[leaf]);
}

test('k-means tree: leaves hold at most leafSize items, children at most 1.6x the average, paths lead to the leaves', async () => {
  const n = 3000, dim = 12;
  const points = uniformPoints(n, dim, 1);
  for (const [branching, leafSize] of [[4, 30], [3, 7], [2, 1]]) {
    const tree = await buildBalancedTree(points, n, dim, { branching, leafSize, nInit: 2, seed: 9, threads: 2 });
    checkInvariants(tree, n, branching, leafSize);
    // Items in the same leaf share a path; different leaves have different paths.
    const byPath = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const key = pathKey(tree, i);
      const leaf = byPath.get(key);
      if (leaf === undefined) byPath.set(key, tree.leaf[i]);
      else assert.equal(leaf, tree.leaf[i]);
    }
  }
});

test('k-means tree: rebalancing moves items out of an oversized cluster', async () => {
  // One dense blob of 900 points and 100 scattered ones: k-means alone puts most in one child.
  const rand = mulberry32(4);
  const n = 1000, dim = 2;
  const points = Float32Array.from({ length: n * dim }, (_, k) => (k < 1800 ? rand() * 0.01 : rand() * 100));
  const tree = await buildBalancedTree(points, n, dim, { seed: 1, threads: 1 });
  assert.ok(tree.nodes.moved[0] > 0, 'the root moved items');
  checkInvariants(tree, n, 4, 30);
});

test('k-means tree: the same seed gives the same tree on 1 and 2 threads; another seed another tree', async () => {
  // Above 16,384 points a node is split with all threads inside.
  const n = 20000, dim = 4;
  const points = uniformPoints(n, dim, 2);
  const one = await buildBalancedTree(points, n, dim, { seed: 5, nInit: 2, threads: 1 });
  const two = await buildBalancedTree(points, n, dim, { seed: 5, nInit: 2, threads: 2 });
  assert.deepEqual(two.paths, one.paths);
  assert.deepEqual(two.nodes.centroids, one.nodes.centroids);
  const other = await buildBalancedTree(points, n, dim, { seed: 6, nInit: 2, threads: 2 });
  assert.notDeepEqual(other.paths, one.paths);
});

test('k-means tree: native equals the TypeScript reference (same seed, same paths and nodes)', async () => {
  const cases = [
    { ...blobs(2000, 6, 5, 3), dim: 6, options: { seed: 11 } },
    { points: uniformPoints(1500, 5, 8), labels: new Int32Array(0), dim: 5, options: { seed: 2, branching: 3, leafSize: 10 } },
  ];
  for (const c of cases) {
    const n = c.points.length / c.dim;
    const tree = await buildBalancedTree(c.points, n, c.dim, { ...c.options, threads: 2 });
    const reference = buildBalancedTreeReference(c.points, n, c.dim, c.options);
    assert.deepEqual(tree.paths, reference.paths);
    assert.deepEqual(tree.lengths, reference.lengths);
    assert.deepEqual(tree.nodes.size, reference.nodes.size);
    assert.deepEqual(tree.nodes.iterations, reference.nodes.iterations);
    assert.deepEqual(tree.nodes.moved, reference.nodes.moved);
    for (let k = 0; k < reference.nodes.centroids.length; k++) {
      assert.ok(Math.abs(tree.nodes.centroids[k] - reference.nodes.centroids[k]) < 1e-4);
    }
  }
});

test('k-means tree: the first level recovers well-separated blobs (AMI >= 0.9)', async () => {
  const { points, labels } = blobs(4000, 16, 4, 21);
  const tree = await buildBalancedTree(points, 4000, 16, { seed: 3, threads: 2 });
  const first = Int32Array.from({ length: 4000 }, (_, i) => tree.paths[i * tree.maxDepth]);
  const ami = adjustedMutualInformation(first, labels);
  assert.ok(ami >= 0.9, `AMI ${ami}`);
});

test('k-means tree: identical points still split into balanced children; few points make one leaf', async () => {
  const n = 200;
  const same = new Float32Array(n * 3).fill(0.5);
  const tree = await buildBalancedTree(same, n, 3, { seed: 1, threads: 1 });
  checkInvariants(tree, n, 4, 30);
  const small = await buildBalancedTree(uniformPoints(30, 3, 1), 30, 3, { threads: 1 });
  assert.equal(small.maxDepth, 0);
  assert.equal(small.nodes.count, 1);
  assert.deepEqual(small.lengths, new Int32Array(30));
});

test('BAD CALL - buildBalancedTree: wrong types, shapes, NaN and options name the argument', async () => {
  const points = uniformPoints(100, 4, 1);
  await assert.rejects(buildBalancedTree(new Float64Array(400) as unknown as Float32Array, 100, 4), { name: 'TypeError', message: /points/ });
  await assert.rejects(buildBalancedTree(points, 99, 4), { name: 'RangeError', message: /points/ });
  await assert.rejects(buildBalancedTree(points, 100.5, 4), { name: 'TypeError', message: /\bn\b/ });
  await assert.rejects(buildBalancedTree(points, 100, 0), { name: 'RangeError', message: /dim/ });
  const withNaN = points.slice();
  withNaN[42] = NaN;
  await assert.rejects(buildBalancedTree(withNaN, 100, 4), { name: 'RangeError', message: /points\[42\] \(row 10\) is NaN/ });
  await assert.rejects(buildBalancedTree(points, 100, 4, { branching: 1 }), { name: 'RangeError', message: /options\.branching/ });
  await assert.rejects(buildBalancedTree(points, 100, 4, { leafSize: 0 }), { name: 'RangeError', message: /options\.leafSize/ });
  await assert.rejects(buildBalancedTree(points, 100, 4, { maxIter: 0 }), { name: 'RangeError', message: /options\.maxIter/ });
  await assert.rejects(buildBalancedTree(points, 100, 4, { nInit: 0 }), { name: 'RangeError', message: /options\.nInit/ });
  await assert.rejects(buildBalancedTree(points, 100, 4, { threads: 0 }), { name: 'RangeError', message: /options\.threads/ });
  await assert.rejects(buildBalancedTree(points, 100, 4, { seed: -1 }), { name: 'RangeError', message: /options\.seed/ });
});

test('BAD CALL - native buildBalancedTree re-checks what could corrupt memory', () => {
  const base = { points: uniformPoints(100, 4, 1), n: 100, dim: 4, branching: 4, leafSize: 30, maxIter: 10, seed: 1, threads: 1 };
  assert.throws(() => native.buildBalancedTree({ ...base, n: 101 }), { name: 'RangeError', message: /points/ });
  assert.throws(() => native.buildBalancedTree({ ...base, points: new Uint32Array(400) as unknown as Float32Array }), { name: 'TypeError', message: /points/ });
  assert.throws(() => native.buildBalancedTree({ ...base, branching: 1 }), { name: 'RangeError', message: /branching/ });
  assert.throws(() => native.buildBalancedTree({ ...base, leafSize: 0 }), { name: 'RangeError', message: /leafSize/ });
  assert.throws(() => native.buildBalancedTree({ ...base, nInit: 0 }), { name: 'RangeError', message: /nInit/ });
  assert.throws(() => native.buildBalancedTree({ ...base, threads: 1.5 }), { name: 'TypeError', message: /threads/ });
  assert.throws(() => native.buildBalancedTree(null as never), { name: 'TypeError', message: /options/ });
});
