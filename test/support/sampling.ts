/** Explicit random draws and path codes for the sampler tests. */
import { packPaths, type PathCodes } from '../../src/trees/path-codes.js';
import { seededRandom, type Graph } from './training.js';

export interface Draws {
  users: Uint32Array;
  pos: Uint32Array;
  /** n x k x negs non-positives of the sample's user (repeats allowed). */
  candidates: Uint32Array;
  /** n x k x (layers + 1) in [0, 1). */
  alphas: Float32Array;
  /** n x k ranks below topK. */
  picks: Uint32Array;
}

export function randomDraws(graph: Graph, n: number, k: number, negs: number, layers: number, topK: number, seed: number): Draws {
  const random = seededRandom(seed);
  const below = (m: number) => Math.floor(random() * m);
  const users = new Uint32Array(n), pos = new Uint32Array(n);
  const candidates = new Uint32Array(n * k * negs);
  for (let b = 0; b < n; b++) {
    const u = below(graph.nUsers);
    const row = graph.trainIndices.subarray(graph.trainIndptr[u], graph.trainIndptr[u + 1]);
    users[b] = u;
    pos[b] = row[below(row.length)];
    for (let c = 0; c < k * negs; c++) {
      let j: number;
      do j = below(graph.nItems);
      while (row.includes(j));
      candidates[b * k * negs + c] = j;
    }
  }
  const alphas = Float32Array.from({ length: n * k * (layers + 1) }, () => random());
  const picks = Uint32Array.from({ length: n * k }, () => below(topK));
  return { users, pos, candidates, alphas, picks };
}

/** Random tree paths: depth 1..maxDepth, child indices below branching (many shared prefixes). */
export function randomPaths(nItems: number, maxDepth: number, branching: number, seed: number): PathCodes {
  const random = seededRandom(seed);
  return packPaths(
    Array.from({ length: nItems }, () => Array.from({ length: 1 + Math.floor(random() * maxDepth) }, () => Math.floor(random() * branching))),
  );
}

export function pathFields(co: PathCodes, se: PathCodes) {
  return { pathsCo: co.paths, pathsCoLengths: co.lengths, pathsSe: se.paths, pathsSeLengths: se.lengths };
}
