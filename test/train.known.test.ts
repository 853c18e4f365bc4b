/**
 * Known answers worked out by hand on a 3-user x 4-item graph: LightGCN-2 propagation along its
 * edges, the BPR loss of one triple, its gradient on the layer-0 rows and one PyTorch Adam step.
 * The expected values are the closed forms below (a = 1/sqrt 2), checked against decimals, and the
 * native kernels and the plain-TS references must both reproduce them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type ModelState } from '../src/native.js';
import { referencePropagate, referenceTrainStep } from '../src/train/step-reference.js';
import { assertClose, graphFromRows } from './support/training.js';

// Edges u0-i0, u0-i1, u1-i1, u1-i2, u2-i3. Degrees: u0 2, u1 2, u2 1; i0 1, i1 2, i2 1, i3 1.
// Weights 1/sqrt(d_u d_i): u0-i0 1/sqrt 2 = a, u0-i1 1/2, u1-i1 1/2, u1-i2 a, u2-i3 1.
const graph = graphFromRows([[0, 1], [1, 2], [3]], 4);
const a = Math.SQRT1_2;
// E0 (dim 1): users [1, 2, -1], items [2, -1, 1, 4].
const users0 = [1, 2, -1], items0 = [2, -1, 1, 4];

// E1 = Â E0:
//   u0 = a 2 + (1/2)(-1) = 2a - 1/2   u1 = (1/2)(-1) + a 1 = a - 1/2   u2 = 1 x 4 = 4
//   i0 = a 1 = a   i1 = (1/2) 1 + (1/2) 2 = 3/2   i2 = a 2 = 2a   i3 = 1 x (-1) = -1
// E2 = Â E1:
//   u0 = a a + (1/2)(3/2) = 1/2 + 3/4 = 5/4   u1 = (1/2)(3/2) + a 2a = 3/4 + 1 = 7/4   u2 = -1
//   i0 = a (2a - 1/2) = 1 - a/2   i1 = (1/2)(2a - 1/2) + (1/2)(a - 1/2) = 3a/2 - 1/2
//   i2 = a (a - 1/2) = 1/2 - a/2   i3 = 4
// F = (E0 + E1 + E2) / 3:
const finalUsers = [(1.75 + 2 * a) / 3, (3.25 + a) / 3, 2 / 3];
const finalItems = [(3 + a / 2) / 3, a / 2, 0.5 + a / 2, 7 / 3];
// The same in decimals.
const finalUsersDecimal = [1.054737854124365, 1.319035593728849, 0.6666666666666666];
const finalItemsDecimal = [1.1178511301977578, 0.35355339059327373, 0.8535533905932736, 2.3333333333333335];

test('hand-computed LightGCN-2 along the edges: native propagate and the TS reference', async () => {
  assertClose(finalUsers, finalUsersDecimal, 'closed form users', 1e-15, 0);
  assertClose(finalItems, finalItemsDecimal, 'closed form items', 1e-15, 0);
  // dim 2 with column 2 = -2 x column 1: propagation is linear, so column 2 of F is -2 x column 1.
  const wide = (v: number[]) => Float32Array.from(v.flatMap((x) => [x, -2 * x]));
  const options = {
    model: 'lightgcn' as const, layers: 2, nUsers: 3, nItems: 4, dim: 2, userEmb: wide(users0), itemEmb: wide(items0),
    trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices,
  };
  for (const threads of [1, 2]) {
    const ours = await native.propagate({ ...options, threads });
    assertClose(ours.users, wide(finalUsers), `native users (${threads} threads)`, 1e-6, 1e-7);
    assertClose(ours.items, wide(finalItems), `native items (${threads} threads)`, 1e-6, 1e-7);
  }
  const theirs = referencePropagate(options);
  assertClose(theirs.users, wide(finalUsers), 'reference users', 1e-6, 1e-7);
  assertClose(theirs.items, wide(finalItems), 'reference items', 1e-6, 1e-7);
});

// One triple (u0, positive i0, negative i2), L2 weight 0.1, batch 1:
//   s_ui = F_u0 F_i0 = 1.054737854124365 x 1.1178511301977578 = 1.1790399022952793
//   s_uj = F_u0 F_i2 = 1.054737854124365 x 0.8535533905932736 = 0.9002750715749254
//   x = s_uj - s_ui = -0.27876483072035396; BPR loss = softplus(x) = log(1 + e^x) = 0.563447203867415
//   reg = 0.1 / 2 x (1^2 + 2^2 + 1^2) = 0.3 (the layer-0 rows of u0, i0, i2)
const l2 = 0.1;
const Fu = finalUsers[0], Fi = finalItems[0], Fj = finalItems[2];
const x = Fu * Fj - Fu * Fi;
const sigma = 1 / (1 + Math.exp(-x)); // dL/dx = 0.4307566202417343
// dF: u0 p = sigma (F_j - F_i), i0 q = -sigma F_u, i2 -q; with v = dF,
//   Âv:  u0 a q, u1 -a q, i0 a p, i1 p/2 (others 0)
//   Â²v: u0 a a p + p/4 = 3p/4, u1 p/4, i0 a a q = q/2, i2 -a a q = -q/2 (i1: (a q - a q)/2 = 0)
//   dE0 = (v + Âv + Â²v) / 3 + l2 E0 on u0, i0, i2:
const p = sigma * (Fj - Fi), q = -sigma * Fu;
const gradUsers = [(1.75 * p + a * q) / 3 + l2 * 1, (-a * q + 0.25 * p) / 3, 0];
const gradItems = [(1.5 * q + a * p) / 3 + l2 * 2, 0.5 * p / 3, -1.5 * q / 3 + l2 * 1, 0];
const gradUsersDecimal = [-0.07349919426403184, 0.09760052689766015, 0];
const gradItemsDecimal = [-0.054001887830707196, -0.018974666841592932, 0.3271676566418154, 0];

// Adam (torch.optim.Adam) from a warm state: step 1 done, m0 = 0.01 and v0 = 1e-4 everywhere;
// this step is t = 2 with lr 0.01, beta1 0.9, beta2 0.999, eps 1e-8:
//   m = 0.9 m0 + 0.1 g, v = 0.999 v0 + 0.001 g^2, p -= lr (m / (1 - 0.9^2)) / (sqrt(v / (1 - 0.999^2)) + eps)
// Dense Adam moves the rows without gradient too (u2, i3: m = 0.009, v = 9.99e-5).
const adam = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
function adamStep(p0: number, g: number): number {
  const m = 0.9 * 0.01 + 0.1 * g, v = 0.999 * 1e-4 + 0.001 * g * g;
  return p0 - adam.lr * (m / (1 - 0.81)) / (Math.sqrt(v / (1 - 0.999 ** 2)) + adam.eps);
}
const afterUsersDecimal = [0.9996216102640749, 1.9957798601666716, -1.0021189101532832];
const afterItemsDecimal = [1.9991645860551666, -1.0016691759700658, 0.9931759440353856, 3.9978810898467168];

function warmState(): ModelState {
  return {
    nUsers: 3, nItems: 4, dim: 1, userEmb: Float32Array.from(users0), itemEmb: Float32Array.from(items0),
    userM: new Float32Array(3).fill(0.01), userV: new Float32Array(3).fill(1e-4), itemM: new Float32Array(4).fill(0.01), itemV: new Float32Array(4).fill(1e-4), step: 1,
  };
}

test('hand-computed BPR loss, gradient and one Adam step: native trainStep and the TS reference', async () => {
  assertClose([x, Math.log1p(Math.exp(x)), sigma], [-0.27876483072035396, 0.563447203867415, 0.4307566202417343], 'closed form x, loss, sigma', 1e-14, 0);
  assertClose(gradUsers, gradUsersDecimal, 'closed form user gradient', 1e-13, 1e-16);
  assertClose(gradItems, gradItemsDecimal, 'closed form item gradient', 1e-13, 1e-16);
  assertClose(users0.map((v, r) => adamStep(v, gradUsers[r])), afterUsersDecimal, 'closed form Adam users', 1e-13, 0);
  assertClose(items0.map((v, r) => adamStep(v, gradItems[r])), afterItemsDecimal, 'closed form Adam items', 1e-13, 0);

  const triple = { users: Uint32Array.of(0), pos: Uint32Array.of(0), neg: Uint32Array.of(2) };
  const hyper = { model: 'lightgcn' as const, layers: 2, optimizer: 'adam' as const, trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, l2, ...adam };
  const ours = warmState();
  const stats = await native.trainStep({ ...ours, ...hyper, threads: 1, ...triple });
  assert.equal(stats.step, 2);
  assertClose([stats.bprLoss, stats.regLoss, stats.loss], [0.563447203867415, 0.3, 0.863447203867415], 'native loss', 1e-6, 0);
  assertClose(ours.userEmb, afterUsersDecimal, 'native users after Adam', 1e-6, 1e-7);
  assertClose(ours.itemEmb, afterItemsDecimal, 'native items after Adam', 1e-6, 1e-7);
  // First moments: m = 0.9 x 0.01 + 0.1 g, so they hold the gradient itself.
  assertClose(ours.userM, gradUsersDecimal.map((g) => 0.009 + 0.1 * g), 'native user m', 1e-5, 1e-8);
  assertClose(ours.itemM, gradItemsDecimal.map((g) => 0.009 + 0.1 * g), 'native item m', 1e-5, 1e-8);

  const theirs = warmState();
  const result = referenceTrainStep(theirs, hyper, triple.users, triple.pos, triple.neg);
  assertClose([result.bprLoss, result.regLoss], [0.563447203867415, 0.3], 'reference loss', 1e-7, 0);
  assertClose(theirs.userEmb, afterUsersDecimal, 'reference users after Adam', 1e-6, 1e-7);
  assertClose(theirs.itemEmb, afterItemsDecimal, 'reference items after Adam', 1e-6, 1e-7);
});
