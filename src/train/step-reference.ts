/**
 * A plain TypeScript implementation of one training step, written to be
 * obviously correct rather than fast: the yardstick for the native kernels in
 * tests and in the bench. Float64 arithmetic throughout; the model's
 * Float32Arrays are updated in place, as the native step does.
 *
 * Mini-batch semantics (LightGCN-PyTorch): final embeddings F = mean over
 * l = 0..L of Â^l E0 with Â = D^-1/2 A D^-1/2; loss = mean softplus(s_uj - s_ui)
 * + l2/2 (|u0|² + |i0|² + |j0|²) / B; dE0 = 1/(L+1) Σ_l Â^l dF + l2 e0 / B per
 * occurrence; then dense Adam, lazy Adam or SGD on rows with a nonzero gradient.
 * MF (or 0 layers) with 'lazy-adam' or 'sgd' is the Hogwild algorithm run on
 * one thread: each sample in order is its own update of its per-sample loss.
 * referenceMiniBatchStep generalises the mini-batch step to K negatives per
 * positive (K-pair loss) that may be MixGCF mixtures of per-layer rows.
 */
import type { ModelState, PropagateOptions, TrainModel, TrainOptimizer } from '../native.js';
import { optimizerNames } from '../defaults.js';
import { expectOneOf } from '../data/validate.js';

export interface ReferenceStepOptions {
  model: TrainModel;
  layers: number;
  trainIndptr: Uint32Array;
  trainIndices: Uint32Array;
  optimizer: TrainOptimizer;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  l2: number;
}

export interface ReferenceStepResult {
  loss: number;
  bprLoss: number;
  regLoss: number;
  samples: number;
  /** Adam step count after the step. */
  step: number;
}

/** The native propagate's options less threads. */
export type ReferencePropagateOptions = Omit<PropagateOptions, 'threads'>;

const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function checkFloatArray(name: string, value: unknown, length: number): void {
  if (!(value instanceof Float32Array)) throw new TypeError(`Expected a Float32Array for ${name} but received ${typeof value}`);
  if (value.length !== length) throw new RangeError(`Expected ${length} elements in ${name} but received ${value.length}`);
}

function checkIds(name: string, value: unknown, length: number | undefined, bound: number): void {
  if (!(value instanceof Uint32Array)) throw new TypeError(`Expected a Uint32Array for ${name} but received ${typeof value}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`Expected ${length} elements in ${name} but received ${value.length}`);
  }
  const bad = value.findIndex((id) => id >= bound);
  if (bad >= 0) throw new RangeError(`Expected every value of ${name} in [0, ${bound}) but ${name}[${bad}] is ${value[bad]}`);
}

function checkGraph(nUsers: number, nItems: number, indptr: Uint32Array, indices: Uint32Array): void {
  checkIds('trainIndptr', indptr, nUsers + 1, indices.length + 1);
  checkIds('trainIndices', indices, undefined, nItems);
  if (indptr[0] !== 0 || indptr[nUsers] !== indices.length) throw new RangeError('Expected trainIndptr to run from 0 to trainIndices.length');
}

function effectiveLayers(model: TrainModel, layers: number): number {
  if (model !== 'mf' && model !== 'lightgcn') throw new RangeError(`Expected 'mf' or 'lightgcn' for model but received ${String(model)}`);
  if (!Number.isInteger(layers) || layers < 0 || layers > 4) throw new RangeError(`Expected layers in [0, 4] but received ${layers}`);
  return model === 'mf' ? 0 : layers;
}

/** Â = D^-1/2 A D^-1/2 over [users; items] as neighbour lists with weights. */
function normalizedAdjacency(nUsers: number, nItems: number, indptr: Uint32Array, indices: Uint32Array) {
  const nodes = nUsers + nItems;
  const degree = new Float64Array(nodes);
  for (let u = 0; u < nUsers; u++) {
    for (let p = indptr[u]; p < indptr[u + 1]; p++) {
      degree[u]++;
      degree[nUsers + indices[p]]++;
    }
  }
  const edges: { a: number; b: number; w: number }[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let p = indptr[u]; p < indptr[u + 1]; p++) {
      const item = nUsers + indices[p];
      edges.push({ a: u, b: item, w: 1 / Math.sqrt(degree[u] * degree[item]) });
    }
  }
  return edges;
}

/** y = Â x for a stacked nodes x dim table. */
function multiply(edges: { a: number; b: number; w: number }[], x: Float64Array, dim: number): Float64Array {
  const y = new Float64Array(x.length);
  for (const { a, b, w } of edges) {
    for (let d = 0; d < dim; d++) {
      y[a * dim + d] += w * x[b * dim + d];
      y[b * dim + d] += w * x[a * dim + d];
    }
  }
  return y;
}

function stacked(userEmb: Float32Array, itemEmb: Float32Array): Float64Array {
  const e = new Float64Array(userEmb.length + itemEmb.length);
  e.set(userEmb);
  e.set(itemEmb, userEmb.length);
  return e;
}

/** Mean over layers 0..L of Â^l E0, stacked. */
function finalEmbeddings(e0: Float64Array, edges: ReturnType<typeof normalizedAdjacency>, layers: number, dim: number): Float64Array {
  const sum = Float64Array.from(e0);
  let e = e0;
  for (let l = 0; l < layers; l++) {
    e = multiply(edges, e, dim);
    for (let k = 0; k < sum.length; k++) sum[k] += e[k];
  }
  return sum.map((v) => v / (layers + 1));
}

/** Final embeddings, as native.propagate returns them. */
export function referencePropagate(o: ReferencePropagateOptions): { users: Float32Array; items: Float32Array } {
  const layers = effectiveLayers(o.model, o.layers);
  checkFloatArray('userEmb', o.userEmb, o.nUsers * o.dim);
  checkFloatArray('itemEmb', o.itemEmb, o.nItems * o.dim);
  checkGraph(o.nUsers, o.nItems, o.trainIndptr, o.trainIndices);
  const edges = normalizedAdjacency(o.nUsers, o.nItems, o.trainIndptr, o.trainIndices);
  const f = finalEmbeddings(stacked(o.userEmb, o.itemEmb), edges, layers, o.dim);
  const split = o.nUsers * o.dim;
  return { users: Float32Array.from(f.subarray(0, split)), items: Float32Array.from(f.subarray(split)) };
}

/** One parameter row: where it lives in the state. */
interface Row {
  p: Float32Array;
  m: Float32Array;
  v: Float32Array;
  offset: number;
}

function rowOf(state: ModelState, node: number): Row {
  return node < state.nUsers
    ? { p: state.userEmb, m: state.userM, v: state.userV, offset: node * state.dim }
    : { p: state.itemEmb, m: state.itemM, v: state.itemV, offset: (node - state.nUsers) * state.dim };
}

/** torch.optim.Adam (single-tensor path) on one row with gradient g. */
function adamRow(row: Row, g: ArrayLike<number>, o: ReferenceStepOptions, t: number): void {
  const bc1 = 1 - o.beta1 ** t;
  const bc2Sqrt = Math.sqrt(1 - o.beta2 ** t);
  for (let d = 0; d < g.length; d++) {
    const k = row.offset + d;
    row.m[k] = row.m[k] + (1 - o.beta1) * (g[d] - row.m[k]);
    row.v[k] = o.beta2 * row.v[k] + (1 - o.beta2) * g[d] * g[d];
    row.p[k] = row.p[k] - (o.lr / bc1) * (row.m[k] / (Math.sqrt(row.v[k]) / bc2Sqrt + o.eps));
  }
}

function sgdRow(row: Row, g: ArrayLike<number>, lr: number): void {
  for (let d = 0; d < g.length; d++) row.p[row.offset + d] -= lr * g[d];
}

function checkStep(state: ModelState, o: ReferenceStepOptions, users: Uint32Array, pos: Uint32Array): number {
  const layers = effectiveLayers(o.model, o.layers);
  expectOneOf(o.optimizer, 'optimizer', optimizerNames);
  for (const name of ['lr', 'beta1', 'beta2', 'eps', 'l2'] as const) {
    if (!Number.isFinite(o[name])) throw new RangeError(`Expected a finite number for ${name} but received ${o[name]}`);
  }
  for (const name of ['userEmb', 'userM', 'userV'] as const) checkFloatArray(name, state[name], state.nUsers * state.dim);
  for (const name of ['itemEmb', 'itemM', 'itemV'] as const) checkFloatArray(name, state[name], state.nItems * state.dim);
  checkGraph(state.nUsers, state.nItems, o.trainIndptr, o.trainIndices);
  checkIds('users', users, undefined, state.nUsers);
  if (users.length === 0) throw new RangeError('Expected at least one triple in users but received 0');
  checkIds('pos', pos, users.length, state.nItems);
  return layers;
}

/**
 * One optimizer step on the triples (users[k], pos[k], neg[k]), updating
 * `state`'s arrays in place. Returns the losses and the new step count.
 */
export function referenceTrainStep(
  state: ModelState,
  o: ReferenceStepOptions,
  users: Uint32Array,
  pos: Uint32Array,
  neg: Uint32Array,
): ReferenceStepResult {
  const layers = checkStep(state, o, users, pos);
  checkIds('neg', neg, users.length, state.nItems);
  const same = pos.findIndex((p, k) => p === neg[k]);
  if (same >= 0) throw new RangeError(`Expected neg[${same}] to differ from pos[${same}] but both are ${pos[same]}`);
  const t = state.step + 1;
  const plain: ReferenceNegatives = { k: 1, items: Uint32Array.from({ length: neg.length * (layers + 1) }, (_, x) => neg[Math.floor(x / (layers + 1))]) };
  const result =
    layers === 0 && o.optimizer !== 'adam'
      ? perSampleStep(state, o, users, pos, neg, t)
      : miniBatchStep(state, o, layers, users, pos, plain, t);
  return { ...result, samples: users.length, step: t };
}

/**
 * The negatives of a mini-batch step, k per positive. Negative s of sample b has, at
 * layer l, the row alpha E^l_i + (1 - alpha) E^l_c with c = items[(b k + s)(L+1) + l] and
 * alpha = alphas[same index] (0 when alphas is absent: a plain negative c at every layer);
 * its final embedding is the mean over layers (MixGCF's positive and hop mixing).
 */
export interface ReferenceNegatives {
  k: number;
  /** n x k x (L+1) items. */
  items: Uint32Array;
  /** n x k x (L+1) mixing weights; absent for plain negatives. */
  alphas?: ArrayLike<number>;
  /** n loss weights, one per positive (weighted labels); absent: all 1. */
  weights?: ArrayLike<number>;
}

/**
 * One step of the mini-batch algorithm (whatever the model and optimizer: the native
 * kernels take it for every sampler that scores candidates and for k > 1) with the
 * K-pair loss log(1 + Σ_s exp(s_us - s_ui)) and the L2 term on the layer-0 rows of the
 * user, the positive and each (mixed) negative, as MixGCF's create_bpr_loss.
 */
export function referenceMiniBatchStep(
  state: ModelState,
  o: ReferenceStepOptions,
  users: Uint32Array,
  pos: Uint32Array,
  negatives: ReferenceNegatives,
): ReferenceStepResult {
  const layers = effectiveLayers(o.model, o.layers);
  const k = negatives.k;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`Expected an integer >= 1 for negatives.k but received ${k}`);
  checkStep(state, o, users, pos);
  checkIds('negatives.items', negatives.items, users.length * k * (layers + 1), state.nItems);
  if (negatives.alphas !== undefined && negatives.alphas.length !== negatives.items.length) {
    throw new RangeError(`Expected ${negatives.items.length} elements in negatives.alphas but received ${negatives.alphas.length}`);
  }
  if (negatives.weights !== undefined && negatives.weights.length !== users.length) {
    throw new RangeError(`Expected ${users.length} elements in negatives.weights but received ${negatives.weights.length}`);
  }
  const t = state.step + 1;
  return { ...miniBatchStep(state, o, layers, users, pos, negatives, t), samples: users.length, step: t };
}

/** Per-layer tables E^0..E^L (stacked [users; items], float64) of the model's layer-0 parameters. */
export function referenceLayerTables(o: ReferencePropagateOptions): Float64Array[] {
  const layers = effectiveLayers(o.model, o.layers);
  checkFloatArray('userEmb', o.userEmb, o.nUsers * o.dim);
  checkFloatArray('itemEmb', o.itemEmb, o.nItems * o.dim);
  checkGraph(o.nUsers, o.nItems, o.trainIndptr, o.trainIndices);
  const edges = normalizedAdjacency(o.nUsers, o.nItems, o.trainIndptr, o.trainIndices);
  return layerTables(stacked(o.userEmb, o.itemEmb), edges, layers, o.dim);
}

function layerTables(e0: Float64Array, edges: ReturnType<typeof normalizedAdjacency>, layers: number, dim: number): Float64Array[] {
  const tables = [e0];
  for (let l = 0; l < layers; l++) tables.push(multiply(edges, tables[l], dim));
  return tables;
}

function miniBatchStep(state: ModelState, o: ReferenceStepOptions, layers: number, users: Uint32Array, pos: Uint32Array,
  negatives: ReferenceNegatives, t: number): { loss: number; bprLoss: number; regLoss: number } {
  const { nUsers, dim } = state;
  const batch = users.length, k = negatives.k, L1 = layers + 1;
  const edges = normalizedAdjacency(nUsers, state.nItems, o.trainIndptr, o.trainIndices);
  const tables = layerTables(stacked(state.userEmb, state.itemEmb), edges, layers, dim);
  const e0 = tables[0];
  const f = finalEmbeddings(e0, edges, layers, dim);
  const row = (a: Float64Array, r: number): Float64Array => a.subarray(r * dim, (r + 1) * dim);
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
    let sum = 0;
    for (let d = 0; d < dim; d++) sum += a[d] * b[d];
    return sum;
  };
  const addTo = (g: Float64Array, r: number, w: number, x: ArrayLike<number>): void => {
    for (let d = 0; d < dim; d++) g[r * dim + d] += w * x[d];
  };

  let bpr = 0, reg = 0;
  const dF = new Float64Array(e0.length);
  const G = tables.map(() => new Float64Array(e0.length)); // dL/dE^l beyond what flows through F
  for (let b = 0; b < batch; b++) {
    const u = users[b], i = nUsers + pos[b];
    const fu = row(f, u), fi = row(f, i);
    const si = dot(fu, fi);
    const mixed = Array.from({ length: k }, (_, s) =>
      tables.map((table, l) => {
        const at = (b * k + s) * L1 + l;
        const a = negatives.alphas?.[at] ?? 0;
        const ei = row(table, i), ec = row(table, nUsers + negatives.items[at]);
        return Float64Array.from(ei, (x, d) => a * x + (1 - a) * ec[d]);
      }),
    );
    const pooled = mixed.map((rows) => Float64Array.from({ length: dim }, (_, d) => rows.reduce((acc, r) => acc + r[d], 0) / L1));
    const x = pooled.map((n) => dot(fu, n) - si);
    const top = Math.max(0, ...x);
    const total = Math.exp(-top) + x.reduce((acc, v) => acc + Math.exp(v - top), 0);
    const weight = negatives.weights?.[b] ?? 1;
    bpr += weight * (top + Math.log(total));
    reg += dot(row(e0, u), row(e0, u)) + dot(row(e0, i), row(e0, i)) + mixed.reduce((acc, rows) => acc + dot(rows[0], rows[0]), 0);
    addTo(G[0], u, o.l2 / batch, row(e0, u));
    addTo(G[0], i, o.l2 / batch, row(e0, i));
    for (let s = 0; s < k; s++) {
      const g = (weight * Math.exp(x[s] - top)) / total / batch;
      addTo(dF, u, g, Float64Array.from(pooled[s], (v, d) => v - fi[d]));
      addTo(dF, i, -g, fu);
      for (let l = 0; l < L1; l++) {
        const at = (b * k + s) * L1 + l;
        const a = negatives.alphas?.[at] ?? 0;
        const c = nUsers + negatives.items[at];
        addTo(G[l], i, (g * a) / L1, fu);
        addTo(G[l], c, (g * (1 - a)) / L1, fu);
      }
      const a0 = negatives.alphas?.[(b * k + s) * L1] ?? 0;
      const c0 = nUsers + negatives.items[(b * k + s) * L1];
      addTo(G[0], i, (o.l2 / batch) * a0, mixed[s][0]);
      addTo(G[0], c0, (o.l2 / batch) * (1 - a0), mixed[s][0]);
    }
  }

  // dE0 = Σ_l Â^l (dF/(L+1) + G_l) (Â is symmetric), in Horner form.
  for (const g of G) for (let r = 0; r < g.length; r++) g[r] += dF[r] / L1;
  let grad = G[layers];
  for (let l = layers - 1; l >= 0; l--) {
    const propagated = multiply(edges, grad, dim);
    grad = G[l].map((v, r) => v + propagated[r]);
  }

  for (let r = 0; r < nUsers + state.nItems; r++) {
    const g = grad.subarray(r * dim, (r + 1) * dim);
    const touched = g.some((x) => x !== 0);
    if (o.optimizer === 'adam') adamRow(rowOf(state, r), g, o, t);
    else if (touched && o.optimizer === 'lazy-adam') adamRow(rowOf(state, r), g, o, t);
    else if (touched) sgdRow(rowOf(state, r), g, o.lr);
  }
  const bprLoss = bpr / batch, regLoss = (0.5 * o.l2 * reg) / batch;
  return { loss: bprLoss + regLoss, bprLoss, regLoss };
}

function perSampleStep(state: ModelState, o: ReferenceStepOptions, users: Uint32Array, pos: Uint32Array, neg: Uint32Array,
  t: number): { loss: number; bprLoss: number; regLoss: number } {
  const { dim } = state;
  let bpr = 0, reg = 0;
  for (let k = 0; k < users.length; k++) {
    const u = rowOf(state, users[k]), i = rowOf(state, state.nUsers + pos[k]), j = rowOf(state, state.nUsers + neg[k]);
    const eu = Array.from(u.p.subarray(u.offset, u.offset + dim));
    const ei = Array.from(i.p.subarray(i.offset, i.offset + dim));
    const ej = Array.from(j.p.subarray(j.offset, j.offset + dim));
    let x = 0, norms = 0;
    for (let d = 0; d < dim; d++) {
      x += eu[d] * ej[d] - eu[d] * ei[d];
      norms += eu[d] * eu[d] + ei[d] * ei[d] + ej[d] * ej[d];
    }
    bpr += softplus(x);
    reg += 0.5 * o.l2 * norms;
    const g = sigmoid(x);
    const gu = eu.map((e, d) => g * (ej[d] - ei[d]) + o.l2 * e);
    const gi = ei.map((e, d) => -g * eu[d] + o.l2 * e);
    const gj = ej.map((e, d) => g * eu[d] + o.l2 * e);
    for (const [row, grad] of [[u, gu], [i, gi], [j, gj]] as const) {
      if (o.optimizer === 'sgd') sgdRow(row, grad, o.lr);
      else adamRow(row, grad, o, t);
    }
  }
  const bprLoss = bpr / users.length, regLoss = reg / users.length;
  return { loss: bprLoss + regLoss, bprLoss, regLoss };
}
