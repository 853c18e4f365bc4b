/** Shapes shared by the labelling modules: candidates, labels, label records and the labeler interface. */

/** Per-user candidate lists, CSR-like: user `users[r]` has candidates `items[indptr[r]..indptr[r+1])` (all indices). */
export interface Candidates {
  users: Uint32Array;
  indptr: Uint32Array;
  items: Uint32Array;
}

export const labelValues = ['positive', 'negative', 'unparsed'] as const;
export type Label = (typeof labelValues)[number];

/** One labeler's verdict on one candidate (indices, not original ids). */
export interface LabelResult {
  item: number;
  label: Label;
  /** The labeler's confidence that the candidate is positive, where it has one (P(yes), rule similarity). */
  score?: number;
}

/** One line of a label store (JSON Lines), with ORIGINAL user and item ids. */
export interface LabelRecord {
  user: number;
  item: number;
  label: Label;
  labeler: string;
  model: string;
  score?: number;
}

/** What a labeler counted while it worked, summed over users. */
export interface LabelerStats {
  /** Prompt tokens actually evaluated (prefix once per user + one tail per candidate). */
  promptTokens: number;
  /** Prompt tokens one full prompt per (user, candidate) would have evaluated. */
  fullPromptTokens: number;
  /** Tokens generated (generate mode). */
  generatedTokens: number;
  /** Model calls repeated because the output could not be parsed. */
  retries: number;
  /** Histories cut to fit the token budget. */
  historiesCut: number;
}

/** Where a model-backed labeler runs: the llama.cpp backend and the layers offloaded to a GPU. */
export interface LabelerDevice {
  /** 'cpu', or the GPU backend in use ('cuda', 'vulkan', 'metal'). */
  backend: string;
  /** Layers offloaded to the GPU (0 on CPU). */
  gpuLayers: number;
  /** The model's layers (what 'max' offloads). */
  layers: number;
}

/** "backend cuda, 25 of 25 layers on the GPU", for logs. */
export function formatDevice(d: LabelerDevice): string {
  return `backend ${d.backend}, ${d.gpuLayers} of ${d.layers} layers on the GPU`;
}

/**
 * Labels one user's candidates. `history` and `candidates` are item indices; results come back in
 * the order of `candidates`. A labeler may be called for several users at once (it bounds its own
 * parallelism). Malformed model output is retried once and then reported as 'unparsed'.
 */
export interface Labeler {
  /** Recorded in each label record (e.g. 'llama', 'rule', 'random-codes(rule)'). */
  readonly name: string;
  /** The model behind the labels (a file name, an endpoint model, or the rule's parameters). */
  readonly model: string;
  labelUser(user: number, history: Uint32Array, candidates: Uint32Array): Promise<LabelResult[]>;
  /** Users it can usefully label at once (llama: its sequences); the job's default concurrency. */
  readonly parallelUsers?: number;
  /** Where it runs, for labelers that run a model in-process (llama). */
  readonly device?: LabelerDevice;
  /**
   * Everything besides name and model that changes its labels (prompt, path codes, options), for the
   * label store's fingerprint; createLabeler fills it in.
   */
  readonly settings?: Record<string, unknown>;
  /** Running totals, where the labeler counts anything. */
  stats?(): LabelerStats;
  /** Frees models, contexts and sockets. */
  close?(): Promise<void>;
}

export function emptyStats(): LabelerStats {
  return { promptTokens: 0, fullPromptTokens: 0, generatedTokens: 0, retries: 0, historiesCut: 0 };
}
