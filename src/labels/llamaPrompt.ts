/**
 * The DTL-NS prompt rendered with a model's own chat template (node-llama-cpp's chat wrappers) and
 * split into token arrays: [BOS + system + history] is the PREFIX shared by all of a user's
 * candidates; [candidate + end of the user turn + the assistant cue] is the TAIL. The full prompt
 * of one (user, candidate) is exactly prefix ++ tail, so evaluating the prefix once and each tail
 * after it gives the same next-token distribution as evaluating every full prompt.
 */
import type { ChatWrapper, LlamaModel, LlamaText as LlamaTextType, Token } from 'node-llama-cpp';
import { answerWords, candidateText, historyText, keepLastFitting, systemPrompt, type PromptItems } from './prompt.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');

/** Stands where the candidate goes while the template is rendered; never appears in real text. */
const CANDIDATE_SLOT = '\u0000DTLNS_CANDIDATE\u0000';

export interface UserPrompt {
  prefix: Token[];
  /** The history actually shown (the last items of the given one when it was over budget). */
  history: Uint32Array;
  /** Renders and tokenizes one candidate's tail. */
  tail(candidate: number): Token[];
}

export class PromptRenderer {
  constructor(
    private readonly lib: NodeLlamaCpp,
    private readonly model: LlamaModel,
    readonly chatWrapper: ChatWrapper,
    private readonly items: PromptItems,
    /** Most prefix tokens a prompt may use; longer histories are cut (see prompt.ts). */
    private readonly maxPrefixTokens: number,
  ) {}

  /** The template around [system + history] and around [candidate], split at the candidate's slot. */
  private split(history: Uint32Array): { prefix: LlamaTextType; suffix: LlamaTextType } {
    const { contextText } = this.chatWrapper.generateContextState({
      chatHistory: [
        { type: 'system', text: systemPrompt },
        { type: 'user', text: historyText(this.items, history) + CANDIDATE_SLOT },
        { type: 'model', response: [] },
      ],
    });
    const values = contextText.values;
    const at = values.findIndex((v) => typeof v === 'string' && v.includes(CANDIDATE_SLOT));
    if (at < 0) throw new Error(`The chat template of ${this.model.filename ?? 'the model'} (${this.chatWrapper.wrapperName}) altered the user message; cannot split the prompt`);
    const [before, after] = (values[at] as string).split(CANDIDATE_SLOT);
    const { LlamaText } = this.lib;
    return { prefix: LlamaText([...values.slice(0, at), before]), suffix: LlamaText([after, ...values.slice(at + 1)]) };
  }

  /** One user's prompt parts; the history is cut to its last items when the prefix exceeds the budget. */
  forUser(history: Uint32Array): UserPrompt {
    const tokenizer = this.model.tokenizer;
    const prefixTokens = (h: Uint32Array): Token[] => this.split(h).prefix.tokenize(tokenizer);
    const kept = keepLastFitting(history, this.maxPrefixTokens, (h) => prefixTokens(h).length);
    const { prefix, suffix } = this.split(kept);
    const { LlamaText } = this.lib;
    return {
      prefix: prefix.tokenize(tokenizer),
      history: kept,
      tail: (candidate) => LlamaText([candidateText(this.items, candidate), suffix]).tokenize(tokenizer),
    };
  }

  /**
   * The tokens that can start each answer. The answer "Yes" can begin with different tokens
   * depending on how the template's text meets it (`Yes` right after the assistant cue, `▁Yes`
   * as SentencePiece writes " Yes", lower case). Each set holds the first token of the answer
   * rendered in place after the cue, plus every single token whose text is the whole word (any
   * case, with or without a leading space). The sets must not overlap.
   */
  answerTokens(): { positive: Token[]; negative: Token[] } {
    const tokenizer = this.model.tokenizer;
    const { suffix } = this.split(new Uint32Array(0));
    const cue = suffix.tokenize(tokenizer);
    const { LlamaText } = this.lib;
    const collect = (word: string): Token[] => {
      const found = new Set<Token>();
      const inPlace = LlamaText([suffix, word]).tokenize(tokenizer);
      let k = 0;
      while (k < cue.length && inPlace[k] === cue[k]) k++;
      if (k < inPlace.length) found.add(inPlace[k]);
      for (const variant of [word, word.toLowerCase(), ` ${word}`, ` ${word.toLowerCase()}`]) {
        const tokens = this.model.tokenize(variant, false);
        const last = tokens[tokens.length - 1];
        if (last !== undefined && this.model.detokenize([last]).trim().toLowerCase() === word.toLowerCase()) found.add(last);
      }
      return [...found];
    };
    const positive = collect(answerWords.positive);
    const negative = collect(answerWords.negative);
    if (positive.length === 0 || negative.length === 0 || positive.some((t) => negative.includes(t))) {
      throw new Error(`Cannot tell the answers "${answerWords.positive}" and "${answerWords.negative}" apart by their first token with the vocabulary of ${this.model.filename ?? 'the model'}`);
    }
    return { positive, negative };
  }
}
