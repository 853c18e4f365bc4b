/**
 * The DTL-NS classification prompt, in our own words. The system message explains the two
 * hierarchical paths and the decision rule; the user message lists the history as
 * `{item_id, co_path, emb_path}` records, then the candidate. The history part depends only on the
 * user and the candidate part comes last, so a rendered prompt is [system + history] (a prefix
 * shared by all of a user's candidates) followed by [candidate + answer cue] (the tail).
 *
 * Long histories are cut to fit a token budget by keeping the LAST items of the history as given
 * (the most recent ones when the caller passes time order; the dataset's CSR rows are in item-index
 * order, so there the cut is deterministic but not by recency). See `keepLastFitting`.
 */
import type { PathCodes } from './labeler-paths.js';
import { pathText } from './labeler-paths.js';

/** Item ids (original) and both path codes: everything a prompt shows about an item. */
export interface PromptItems {
  itemIds: readonly number[];
  /** co_path: the structural tree (item-item co-occurrence). */
  structural: PathCodes;
  /** emb_path: the semantic tree (learned item embeddings). */
  semantic: PathCodes;
}

export const systemPrompt = [
  'You help a recommender system find items that a user would like but has not interacted with yet.',
  'Every item is described by two hierarchical codes. Each code is a path of child indices from the root of a tree down to the item, written like 2-0-3-1:',
  '- co_path places the item in a tree built from collaborative structure: items chosen by the same users end up close together.',
  "- emb_path places the item in a tree built from a recommender's learned item embeddings.",
  'Within one view, two items are similar when their paths share a prefix counted from the root; the longer the shared prefix, the more similar they are. Only the shared prefix matters: the values of the indices mean nothing by themselves, and nothing after the first difference counts.',
  "You will see the user's history and one candidate item. Answer Yes when the candidate clearly shares a long prefix with items of the history in either view (co_path or emb_path), so the user would probably like it. Otherwise answer No.",
  'Reply with exactly one word: Yes or No.',
].join('\n');

/** The words a model must produce; parsing accepts them case-insensitively, surrounded by punctuation or spaces. */
export const answerWords = { positive: 'Yes', negative: 'No' } as const;

export function itemRecord(items: PromptItems, item: number): string {
  return `{"item_id": ${items.itemIds[item]}, "co_path": "${pathText(items.structural, item)}", "emb_path": "${pathText(items.semantic, item)}"}`;
}

/** The user-dependent first part of the user message; it ends with the question, so the tail is short. */
export function historyText(items: PromptItems, history: Uint32Array): string {
  const lines = [`The user's history (${history.length} items):`];
  for (const item of history) lines.push(itemRecord(items, item));
  lines.push('Would the user like the candidate below? Answer Yes or No.');
  return lines.join('\n') + '\n';
}

/** The candidate-dependent last part of the user message. */
export function candidateText(items: PromptItems, candidate: number): string {
  return `Candidate: ${itemRecord(items, candidate)}`;
}

export function userMessage(items: PromptItems, history: Uint32Array, candidate: number): string {
  return historyText(items, history) + candidateText(items, candidate);
}

/**
 * The longest suffix of `history` whose cost fits `budget`: `cost(k)` is the cost (tokens) of the
 * last k items and must grow with k. Binary search, so a long history costs O(log n) renderings.
 */
export function keepLastFitting(history: Uint32Array, budget: number, cost: (kept: Uint32Array) => number): Uint32Array {
  if (cost(history) <= budget) return history;
  let lo = 0;
  let hi = history.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (cost(history.subarray(history.length - mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return history.subarray(history.length - lo);
}

/** Reads a model's answer: 'positive' / 'negative', or undefined when it is neither word. */
export function parseAnswer(text: string): 'positive' | 'negative' | undefined {
  const word = text.trim().replace(/^[^A-Za-z]+/, '').match(/^[A-Za-z]+/)?.[0]?.toLowerCase();
  if (word === answerWords.positive.toLowerCase()) return 'positive';
  if (word === answerWords.negative.toLowerCase()) return 'negative';
  return undefined;
}
