/**
 * Deterministic labelers: `rule` (the prompt's own decision rule), and the controls `topn` (every
 * candidate positive: "no LLM"), `none` (every candidate negative: no labelling) and
 * `random-codes` (another labeler fed shuffled paths, see permutePaths).
 */
import { labelDefaults } from '../defaults.js';
import { prefixSimilarityReference as prefixSimilarity } from '../trees/prefix.js';
import { checkPathCodes, permutePaths, type PathCodes } from './paths.js';
import type { PromptItems } from './prompt.js';
import type { Labeler, LabelResult } from './types.js';

/**
 * The rule's score of a candidate: max over the history of max(sim_co(h, c), sim_se(h, c)),
 * with sim = LCP / min(len) (float32, as the native kernels). The work per user is small (history x
 * candidates x 2 views), so the plain-TS similarity beats a native call per user.
 */
export function ruleScore(structural: PathCodes, semantic: PathCodes, history: Uint32Array, candidate: number): number {
  let best = 0;
  for (const h of history) {
    const s = Math.max(prefixSimilarity(structural, h, candidate), prefixSimilarity(semantic, h, candidate));
    if (s > best) best = s;
  }
  return best;
}

/** Positive when the rule's score reaches theta (default labelDefaults.theta). */
export function createRuleLabeler(structural: PathCodes, semantic: PathCodes, theta: number = labelDefaults.theta): Labeler {
  if (typeof theta !== 'number' || !(theta >= 0 && theta <= 1)) throw new RangeError(`Expected a number in [0, 1] for theta but received ${String(theta)}`);
  const nItems = structural?.nItems;
  checkPathCodes(structural, nItems, 'structural');
  checkPathCodes(semantic, nItems, 'semantic');
  return {
    name: 'rule',
    model: `theta=${theta}`,
    labelUser: async (_user, history, candidates) =>
      Array.from(candidates, (item): LabelResult => {
        const score = ruleScore(structural, semantic, history, item);
        return { item, label: score >= theta ? 'positive' : 'negative', score };
      }),
  };
}

/** Every candidate positive: the "no LLM" control (all top-N candidates added as positives). */
export function createTopNLabeler(): Labeler {
  return {
    name: 'topn',
    model: 'none',
    labelUser: async (_user, _history, candidates) => Array.from(candidates, (item): LabelResult => ({ item, label: 'positive' })),
  };
}

/** Every candidate negative: the "no labelling" control, so its runs go through the same pipeline. */
export function createNoneLabeler(): Labeler {
  return {
    name: 'none',
    model: 'none',
    labelUser: async (_user, _history, candidates) => Array.from(candidates, (item): LabelResult => ({ item, label: 'negative' })),
  };
}

/**
 * The random-codes control: builds the inner labeler on prompt items whose paths are randomly
 * permuted among items (both trees, independent permutations), then labels through it.
 */
export async function createRandomCodesLabeler(
  items: PromptItems, makeInner: (shuffled: PromptItems) => Promise<Labeler> | Labeler, seed: number = labelDefaults.randomCodesSeed,
): Promise<Labeler> {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Expected a non-negative integer for seed but received ${String(seed)}`);
  const shuffled: PromptItems = {
    itemIds: items.itemIds,
    structural: permutePaths(items.structural, seed),
    semantic: permutePaths(items.semantic, seed + 1),
  };
  const inner = await makeInner(shuffled);
  return {
    name: `random-codes(${inner.name})`,
    model: `${inner.model} seed=${seed}`,
    labelUser: (user, history, candidates) => inner.labelUser(user, history, candidates),
    ...(inner.stats ? { stats: () => inner.stats!() } : {}),
    ...(inner.close ? { close: () => inner.close!() } : {}),
    ...(inner.parallelUsers !== undefined ? { parallelUsers: inner.parallelUsers } : {}),
    ...(inner.device ? { device: inner.device } : {}),
  };
}
