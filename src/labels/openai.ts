/**
 * The `openai` labeler: any OpenAI-compatible chat-completions endpoint (vLLM, as the DTL-NS
 * authors used; llama.cpp's server; Ollama). One request per (user, candidate) with the same
 * system and user messages as the in-process labeler, temperature 0 and a few answer tokens.
 *
 * Requests in flight are bounded (`concurrency`, shared by all users), each has a timeout, and
 * 429 / 5xx / network errors / timeouts are retried with exponential backoff (honouring
 * Retry-After, capped by `maxRetryWaitMs`) up to `retries` times and `maxRetryTotalMs` of waiting;
 * then the job stops with an error naming the endpoint (it is resumable). A response body larger
 * than `maxResponseBytes` stops it too, without reading the rest. Other HTTP errors (401, 404, ...) stop it at once. A reply that is not a
 * readable Yes/No (including a 200 with a body that is not a chat completion) is retried once,
 * then recorded as unparsed.
 */
import { labelDefaults } from '../defaults.js';
import { labelerFieldSpecs } from './labeler-catalogue.js';
import { historyText, keepLastFitting, parseAnswer, systemPrompt, userMessage, type PromptItems } from './prompt.js';
import { emptyStats, type Labeler, type LabelerStats, type LabelResult } from './types.js';

export interface OpenAiLabelerOptions {
  /** Base URL such as http://127.0.0.1:8000/v1 (or the full .../chat/completions URL). */
  url: string;
  /** The model name the server expects. */
  modelName: string;
  items: PromptItems;
  /** Bearer token; default: the OPENAI_API_KEY environment variable when set. */
  apiKey?: string;
  concurrency?: number;
  timeoutMs?: number;
  retries?: number;
  retryBaseMs?: number;
  maxRetryWaitMs?: number;
  maxRetryTotalMs?: number;
  maxResponseBytes?: number;
  /** History budget in estimated tokens (4 characters per token). */
  maxPromptTokens?: number;
  maxAnswerTokens?: number;
}

/** The endpoint could not be used (unreachable after retries, or a non-retryable HTTP error). */
export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointError';
  }
}

class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function networkReason(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  return e?.cause?.code ? `${e.cause.code} (${e.cause.message ?? e.message})` : (e?.message ?? String(error));
}

function integerOption(value: number, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new RangeError(`Expected an integer >= ${min} for ${name} but received ${String(value)}`);
  return value;
}

type OpenAiIntegerField = 'concurrency' | 'timeoutMs' | 'retries' | 'retryBaseMs' | 'maxRetryWaitMs' | 'maxRetryTotalMs' | 'maxResponseBytes' | 'maxPromptTokens' | 'maxAnswerTokens';

export function createOpenAiLabeler(options: OpenAiLabelerOptions): Labeler {
  if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) throw new RangeError(`Expected an http(s) URL for url but received ${String(options.url)}`);
  if (typeof options.modelName !== 'string' || options.modelName.length === 0) throw new TypeError(`Expected a model name for modelName but received ${String(options.modelName)}`);
  const endpoint = /\/chat\/completions\/?$/.test(options.url) ? options.url : `${options.url.replace(/\/+$/, '')}/chat/completions`;
  // Defaults and bounds from the labeler catalogue's openai fields.
  const integerField = (name: OpenAiIntegerField): number => integerOption(options[name] ?? labelDefaults[name], name, labelerFieldSpecs[name].min!);
  const concurrency = integerField('concurrency');
  const timeoutMs = integerField('timeoutMs');
  const retries = integerField('retries');
  const retryBaseMs = integerField('retryBaseMs');
  const maxRetryWaitMs = integerField('maxRetryWaitMs');
  const maxRetryTotalMs = integerField('maxRetryTotalMs');
  const maxResponseBytes = integerField('maxResponseBytes');
  const maxPromptTokens = integerField('maxPromptTokens');
  const maxAnswerTokens = integerField('maxAnswerTokens');
  const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
  const items = options.items;
  const limiter = new Limiter(concurrency);
  const counts: LabelerStats = emptyStats();

  /** The body as text, or an EndpointError as soon as it passes maxResponseBytes. */
  async function boundedText(response: Response): Promise<string> {
    const tooLarge = (size: string) => new EndpointError(`${endpoint} sent a response of ${size}, more than maxResponseBytes = ${maxResponseBytes}`);
    const declared = Number(response.headers.get('content-length'));
    if (declared > maxResponseBytes) {
      await response.body?.cancel();
      throw tooLarge(`${declared} bytes`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > maxResponseBytes) throw tooLarge(`over ${size} bytes`); // leaving the loop cancels the stream
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** POSTs with retries on 429 / 5xx / network errors; returns the 200 body text. */
  async function post(body: string): Promise<string> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      let waitMs = retryBaseMs * 2 ** attempt;
      try {
        const response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await boundedText(response);
        if (response.ok) return text;
        reason = `HTTP ${response.status} ${text.slice(0, 200)}`.trim();
        if (response.status !== 429 && response.status < 500) throw new EndpointError(`${endpoint} refused the request: ${reason}`);
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = Math.max(waitMs, retryAfter * 1000);
      } catch (error) {
        if (error instanceof EndpointError) throw error;
        reason = networkReason(error);
      }
      if (attempt >= retries) throw new EndpointError(`Could not get an answer from ${endpoint} after ${attempt + 1} attempts: ${reason}`);
      const wait = Math.min(maxRetryWaitMs, waitMs * (0.75 + Math.random() * 0.5));
      if (waited + wait > maxRetryTotalMs) {
        throw new EndpointError(`Could not get an answer from ${endpoint} within maxRetryTotalMs = ${maxRetryTotalMs} ms of retries (${attempt + 1} attempts): ${reason}`);
      }
      waited += wait;
      await sleep(wait);
    }
  }

  /** One completion's text, or undefined when the body is not a chat completion. */
  async function complete(messages: { role: string; content: string }[]): Promise<string | undefined> {
    const text = await limiter.run(() => post(JSON.stringify({ model: options.modelName, messages, max_tokens: maxAnswerTokens, temperature: 0 })));
    let reply: { choices?: { message?: { content?: unknown } }[]; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } };
    try {
      reply = JSON.parse(text);
    } catch {
      return undefined;
    }
    const prompt = Number(reply?.usage?.prompt_tokens);
    if (Number.isFinite(prompt)) {
      counts.promptTokens += prompt;
      counts.fullPromptTokens += prompt;
    }
    const generated = Number(reply?.usage?.completion_tokens);
    if (Number.isFinite(generated)) counts.generatedTokens += generated;
    const content = reply?.choices?.[0]?.message?.content;
    return typeof content === 'string' ? content : undefined;
  }

  async function labelOne(history: Uint32Array, item: number): Promise<LabelResult> {
    const messages = [{ role: 'system', content: systemPrompt }, { role: 'user', content: userMessage(items, history, item) }];
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt > 0) counts.retries++;
      const content = await complete(messages);
      const label = content === undefined ? undefined : parseAnswer(content);
      if (label) return { item, label };
    }
    return { item, label: 'unparsed' };
  }

  return {
    name: 'openai',
    model: options.modelName,
    // Two users in flight keep the request pipe full while one user's last answers arrive.
    parallelUsers: 2,
    async labelUser(_user, history, candidates) {
      const estimate = (h: Uint32Array): number => Math.ceil((systemPrompt.length + historyText(items, h).length) / 4);
      const kept = keepLastFitting(history, maxPromptTokens, estimate);
      if (kept.length < history.length) counts.historiesCut++;
      return Promise.all(Array.from(candidates, (item) => labelOne(kept, item)));
    },
    stats: () => ({ ...counts }),
  };
}
