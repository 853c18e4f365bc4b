/**
 * Deterministic labelers: `rule` (prefix overlap with the history, counted), and the controls
 * `topn` (every candidate positive: "no LLM"), `none` (every candidate negative: no labelling),
 * `random-codes` and `shuffled-codes` (another labeler fed meaningless paths, see labeler-paths.ts).
 */
import { labelDefaults } from '../defaults.js';
import { expectOneOf } from '../data/validate.js';
import { prefixSimilarityReference as prefixSimilarity } from '../trees/prefix.js';
import { checkPathCodes, permutePaths, randomPaths, type PathCodes } from './labeler-paths.js';
import type { PromptItems } from './prompt.js';
import type { Labeler, LabelResult } from './types.js';
import { checkLabelerField, codeControls, labelerFieldsOf, ruleViews, type CodeControl } from './labeler-catalogue.js';

export { ruleViews };
export type RuleView = (typeof ruleViews)[number];

export interface RuleOptions {
  /** Path similarity (LCP / min(len)) at which a history item supports a candidate in one tree. */
  theta: number;
  /**
   * How the trees count: 'sum': each tree's supporting history items, added (an item that
   * reaches theta in both trees counts twice); 'both': items that reach theta in both trees;
   * 'either': items that reach it in at least one.
   */
  views: RuleView;
  /** Supporting history items a positive needs. */
  minSupport: number;
  /** Most positives per user, the best supported first (ties: earlier candidate); 0 = no cap. */
  cap: number;
}

/** Options with defaults filled in, each checked (a RangeError/TypeError names the option). */
export function resolveRuleOptions(options: Partial<RuleOptions> = {}): RuleOptions {
  const out = { ...labelDefaults.rule } as RuleOptions;
  for (const key of labelerFieldsOf('rule') as (keyof RuleOptions)[]) {
    const value = options[key];
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = checkLabelerField(key, value);
  }
  return out;
}

/** The options as the labeler records them in its `model` field. */
export function ruleModelText(o: RuleOptions): string {
  return `theta=${o.theta} views=${o.views} minSupport=${o.minSupport} cap=${o.cap}`;
}

export interface RuleEvidence {
  /** History items whose similarity to the candidate reaches theta, counted as `views` says. */
  support: number;
  /** Best similarity over the history, the trees combined by mean ('sum'), min ('both') or max ('either'): in [0, 1]. */
  score: number;
}

/**
 * What the history says about one candidate (sim = LCP / min(len), float32 as the native
 * kernels). The work per user is small (history x candidates x 2 views), so plain TS beats a
 * native call per user.
 */
export function ruleEvidence(
  structural: PathCodes, semantic: PathCodes, history: Uint32Array, candidate: number, theta: number, views: RuleView,
): RuleEvidence {
  let support = 0;
  let score = 0;
  for (const h of history) {
    const co = prefixSimilarity(structural, h, candidate);
    const se = prefixSimilarity(semantic, h, candidate);
    if (views === 'sum') support += Number(co >= theta) + Number(se >= theta);
    else if ((views === 'both' ? Math.min(co, se) : Math.max(co, se)) >= theta) support++;
    const s = views === 'sum' ? (co + se) / 2 : views === 'both' ? Math.min(co, se) : Math.max(co, se);
    if (s > score) score = s;
  }
  return { support, score };
}

/** The rule labeler (options default to labelDefaults.rule). The score of a result is RuleEvidence.score. */
export function createRuleLabeler(structural: PathCodes, semantic: PathCodes, options: Partial<RuleOptions> = {}): Labeler {
  const o = resolveRuleOptions(options);
  const nItems = structural?.nItems;
  checkPathCodes(structural, nItems, 'structural');
  checkPathCodes(semantic, nItems, 'semantic');
  return {
    name: 'rule',
    model: ruleModelText(o),
    labelUser: async (_user, history, candidates) => {
      const evidence = Array.from(candidates, (item) => ruleEvidence(structural, semantic, history, item, o.theta, o.views));
      const accepted = evidence.map((e) => e.support >= o.minSupport);
      if (o.cap > 0) {
        // Keep the `cap` best supported; a stable sort keeps the candidates' own order among ties.
        const order = evidence.map((_, k) => k).filter((k) => accepted[k]).sort((a, b) => evidence[b].support - evidence[a].support);
        for (const k of order.slice(o.cap)) accepted[k] = false;
      }
      return Array.from(candidates, (item, k): LabelResult => ({ item, label: accepted[k] ? 'positive' : 'negative', score: evidence[k].score }));
    },
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

export { codeControls, type CodeControl } from './labeler-catalogue.js';

/**
 * A code control: builds the inner labeler on prompt items whose paths carry no information
 * (both trees, independent seeds), then labels through it. `random-codes` draws every item a
 * fresh random path (randomPaths: same depth, no tree shape); `shuffled-codes` permutes the
 * real paths among items (permutePaths: the trees keep their shape, lose their meaning).
 */
export async function createCodeControlLabeler(
  control: CodeControl, items: PromptItems, makeInner: (meaningless: PromptItems) => Promise<Labeler> | Labeler,
  seed: number = labelDefaults.codeControlSeed,
): Promise<Labeler> {
  expectOneOf(control, 'control', codeControls);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Expected a non-negative integer for seed but received ${String(seed)}`);
  const recode = control === 'random-codes' ? randomPaths : permutePaths;
  const meaningless: PromptItems = {
    itemIds: items.itemIds,
    structural: recode(items.structural, seed),
    semantic: recode(items.semantic, seed + 1),
  };
  const inner = await makeInner(meaningless);
  return {
    name: `${control}(${inner.name})`,
    model: `${inner.model} seed=${seed}`,
    labelUser: (user, history, candidates) => inner.labelUser(user, history, candidates),
    ...(inner.stats ? { stats: () => inner.stats!() } : {}),
    ...(inner.close ? { close: () => inner.close!() } : {}),
    ...(inner.parallelUsers !== undefined ? { parallelUsers: inner.parallelUsers } : {}),
    ...(inner.device ? { device: inner.device } : {}),
  };
}
