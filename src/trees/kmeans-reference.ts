/**
 * The balanced hierarchical k-means tree in plain TypeScript: the same algorithm, node order,
 * random streams and tie rules as native/kernels/kmeans_tree.cpp, single-threaded. Tests check
 * the native tree against it; the benchmark measures both.
 */
import type { BalancedTree, TreeNodes } from './kmeans.js';
import { expectPoints } from './kmeans.js';
import { resolveTreeOptions, type ResolvedTreeOptions, type TreeOptions } from './options.js';
import { Xoshiro256ss } from './xoshiro.js';

interface Split {
  clusters: number[][];
  iterations: number;
  moved: number;
}

function squaredDistance(y: Float32Array, i: number, c: Float32Array, j: number, dim: number): number {
  let s = 0;
  const a = i * dim, b = j * dim;
  for (let d = 0; d < dim; d++) {
    const t = y[a + d] - c[b + d];
    s += t * t;
  }
  return s;
}

class KMeans {
  readonly centroids: Float32Array;
  readonly assign: Uint32Array;

  constructor(private readonly y: Float32Array, private readonly m: number, private readonly dim: number, private readonly k: number) {
    this.centroids = new Float32Array(k * dim);
    this.assign = new Uint32Array(m).fill(k);
  }

  seed(rng: Xoshiro256ss): void {
    const { y, m, dim, k } = this;
    const nearest = new Float32Array(m);
    this.setCentroid(0, rng.below(m));
    for (let i = 0; i < m; i++) nearest[i] = squaredDistance(y, i, this.centroids, 0, dim);
    for (let c = 1; c < k; c++) {
      let total = 0;
      for (let i = 0; i < m; i++) total += nearest[i];
      let pick = 0;
      if (total > 0) {
        const r = rng.uniform64() * total;
        let running = 0, lastPositive = 0, found = false;
        for (let i = 0; i < m && !found; i++) {
          if (nearest[i] > 0) lastPositive = i;
          running += nearest[i];
          if (running > r) {
            pick = i;
            found = true;
          }
        }
        if (!found) pick = lastPositive;
      } else {
        pick = rng.below(m);
      }
      this.setCentroid(c, pick);
      for (let i = 0; i < m; i++) nearest[i] = Math.min(nearest[i], squaredDistance(y, i, this.centroids, c, dim));
    }
  }

  lloyd(maxIter: number, shiftLimit: number): number {
    this.assignAll();
    let iterations = 0;
    for (let it = 1; it <= maxIter; it++) {
      const shift = this.updateCentroids();
      const changed = this.assignAll();
      iterations = it;
      if (changed === 0 || shift <= shiftLimit) break;
    }
    this.updateCentroids();
    return iterations;
  }

  inertia(): number {
    let total = 0;
    for (let i = 0; i < this.m; i++) total += Math.fround(squaredDistance(this.y, i, this.centroids, this.assign[i], this.dim));
    return total;
  }

  rebalance(maxSize: number): { clusters: number[][]; moved: number } {
    const clusters: number[][] = Array.from({ length: this.k }, () => []);
    for (let i = 0; i < this.m; i++) clusters[this.assign[i]].push(i);
    let moved = 0;
    for (let c = 0; c < this.k; c++) {
      if (clusters[c].length <= maxSize) continue;
      const byDistance = clusters[c].map((i) => ({ i, d: Math.fround(squaredDistance(this.y, i, this.centroids, c, this.dim)) }));
      byDistance.sort((a, b) => (a.d !== b.d ? b.d - a.d : b.i - a.i));
      const gone = new Set<number>();
      for (let next = 0, size = clusters[c].length; size > maxSize; next++, size--) {
        let target = 0;
        for (let t = 1; t < this.k; t++) if (clusters[t].length < clusters[target].length) target = t;
        clusters[target].push(byDistance[next].i);
        gone.add(byDistance[next].i);
        moved++;
      }
      clusters[c] = clusters[c].filter((i) => !gone.has(i));
    }
    return { clusters, moved };
  }

  private setCentroid(c: number, i: number): void {
    this.centroids.set(this.y.subarray(i * this.dim, (i + 1) * this.dim), c * this.dim);
  }

  private assignAll(): number {
    let changed = 0;
    for (let i = 0; i < this.m; i++) {
      let best = 0;
      let bestDistance = squaredDistance(this.y, i, this.centroids, 0, this.dim);
      for (let c = 1; c < this.k; c++) {
        const dist = squaredDistance(this.y, i, this.centroids, c, this.dim);
        if (dist < bestDistance) {
          bestDistance = dist;
          best = c;
        }
      }
      if (this.assign[i] !== best) {
        this.assign[i] = best;
        changed++;
      }
    }
    return changed;
  }

  private updateCentroids(): number {
    const { y, m, dim, k } = this;
    const sums = new Float64Array(k * dim);
    const counts = new Float64Array(k);
    for (let i = 0; i < m; i++) {
      const c = this.assign[i];
      counts[c]++;
      for (let d = 0; d < dim; d++) sums[c * dim + d] += y[i * dim + d];
    }
    let shift = 0;
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      for (let d = 0; d < dim; d++) {
        const mean = Math.fround(sums[c * dim + d] / counts[c]);
        shift += (mean - this.centroids[c * dim + d]) ** 2;
        this.centroids[c * dim + d] = mean;
      }
    }
    return shift;
  }
}

function meanVariance(y: Float32Array, m: number, dim: number): number {
  const mean = new Float64Array(dim);
  for (let i = 0; i < m; i++) for (let d = 0; d < dim; d++) mean[d] += y[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= m;
  let total = 0;
  for (let d = 0; d < dim; d++) {
    let sq = 0;
    for (let i = 0; i < m; i++) sq += (y[i * dim + d] - mean[d]) ** 2;
    total += sq / m;
  }
  return total / dim;
}

/** The largest child allowed: floor(1.6 x average), never below ceil(average). */
export function maxChildSize(m: number, branching: number): number {
  return Math.max(Math.ceil(m / branching), Math.floor((16 * m) / (10 * branching)));
}

function splitNode(points: Float32Array, dim: number, members: Uint32Array, nodeId: number, o: ResolvedTreeOptions): Split {
  const m = members.length;
  if (m <= o.branching) return { clusters: Array.from(members, (i) => [i]), iterations: 0, moved: 0 };
  const y = new Float32Array(m * dim);
  for (let i = 0; i < m; i++) y.set(points.subarray(members[i] * dim, (members[i] + 1) * dim), i * dim);
  const rng = new Xoshiro256ss(o.seed, nodeId);
  const shiftLimit = o.tolerance * meanVariance(y, m, dim);
  let best: KMeans | undefined;
  let bestInertia = 0, iterations = 0;
  for (let run = 0; run < o.nInit; run++) {
    const km = new KMeans(y, m, dim, o.branching);
    km.seed(rng);
    iterations += km.lloyd(o.maxIter, shiftLimit);
    const inertia = km.inertia();
    if (!best || inertia < bestInertia) {
      best = km;
      bestInertia = inertia;
    }
  }
  const { clusters, moved } = best!.rebalance(maxChildSize(m, o.branching));
  return {
    clusters: clusters.filter((c) => c.length > 0).map((c) => c.map((i) => members[i]).sort((a, b) => a - b)),
    iterations,
    moved,
  };
}

/** The tree of buildBalancedTree, computed in plain TypeScript on one thread (options.threads is ignored). */
export function buildBalancedTreeReference(points: Float32Array, n: number, dim: number, options?: TreeOptions): BalancedTree {
  expectPoints(points, n, dim);
  const o = resolveTreeOptions(options);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const begin = [0], end = [n], parent = [-1], depth = [0], childIndex = [-1];
  const firstChild = [-1], childCount = [0], iterations = [0], moved = [0];
  let level = [0];
  while (level.length > 0) {
    const splits = level.map((id) =>
      end[id] - begin[id] <= o.leafSize ? undefined : splitNode(points, dim, order.subarray(begin[id], end[id]), id, o),
    );
    const next: number[] = [];
    level.forEach((id, j) => {
      const split = splits[j];
      if (!split) return;
      firstChild[id] = begin.length;
      childCount[id] = split.clusters.length;
      iterations[id] = split.iterations;
      moved[id] = split.moved;
      let at = begin[id];
      split.clusters.forEach((cluster, c) => {
        order.set(cluster, at);
        next.push(begin.length);
        begin.push(at);
        end.push(at + cluster.length);
        parent.push(id);
        depth.push(depth[id] + 1);
        childIndex.push(c);
        firstChild.push(-1);
        childCount.push(0);
        iterations.push(0);
        moved.push(0);
        at += cluster.length;
      });
    });
    level = next;
  }

  const count = begin.length;
  const leaf = new Int32Array(n).fill(-1);
  const lengths = new Int32Array(n);
  let maxDepth = 0;
  for (let v = 0; v < count; v++) {
    if (childCount[v] !== 0) continue;
    for (let p = begin[v]; p < end[v]; p++) {
      leaf[order[p]] = v;
      lengths[order[p]] = depth[v];
    }
    maxDepth = Math.max(maxDepth, depth[v]);
  }
  const paths = new Int32Array(n * maxDepth).fill(-1);
  for (let i = 0; i < n; i++) {
    for (let v = leaf[i]; parent[v] >= 0; v = parent[v]) paths[i * maxDepth + depth[v] - 1] = childIndex[v];
  }
  const centroids = new Float32Array(count * dim);
  const sum = new Float64Array(dim);
  for (let v = 0; v < count; v++) {
    sum.fill(0);
    for (let p = begin[v]; p < end[v]; p++) for (let d = 0; d < dim; d++) sum[d] += points[order[p] * dim + d];
    for (let d = 0; d < dim; d++) centroids[v * dim + d] = sum[d] / (end[v] - begin[v]);
  }
  const nodes: TreeNodes = {
    count,
    parent: Int32Array.from(parent),
    depth: Int32Array.from(depth),
    childIndex: Int32Array.from(childIndex),
    firstChild: Int32Array.from(firstChild),
    childCount: Int32Array.from(childCount),
    size: Int32Array.from(begin, (b, v) => end[v] - b),
    iterations: Int32Array.from(iterations),
    moved: Int32Array.from(moved),
    centroids,
  };
  return { nItems: n, maxDepth, paths, lengths, leaf, nodes };
}
