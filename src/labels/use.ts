/**
 * Label uses: what a labelled false negative does in training (DESIGN.md, "A label use").
 * - positive: trained as a positive and a graph edge (the paper); never drawn as a negative.
 * - exclude: never drawn as a negative nor as a hard-negative candidate, and not trained on
 *   (false-negative-aware sampling); the graph and the positives stay the original ones.
 * - weighted: trained as a positive (and a graph edge) whose loss term has weight w in (0, 1],
 *   or the labeler's confidence for that pair; w = 1 is 'positive' exactly.
 * Pairs that are already training positives keep their training role and weight 1.
 */
import type { Csr } from '../data/types.js';
import { csrUnion } from '../data/csr.js';
import { labelUseDefaults } from '../defaults.js';

export const labelUses = ['positive', 'exclude', 'weighted'] as const;
export type LabelUse = (typeof labelUses)[number];

export interface LabelUseOptions {
  /** Default 'positive'. */
  labelUse?: LabelUse;
  /** weighted: a weight in (0, 1] or 'confidence'; default 0.5. */
  labelWeight?: number | 'confidence';
}

/** Labelled pairs of the dataset's indices; confidence (aligned with pairs.indices, in [0, 1]) when the labeler scored them. */
export interface LabelledPairs {
  pairs: Csr;
  confidence?: Float32Array;
}

/** The inputs of a training run with labels: its positives (epoch plan and graph), what is never a negative, and the positives' weights. */
export interface LabelledTraining {
  positives: Csr;
  /** Absent when it is the positives. */
  nonNegatives?: Csr;
  /** Aligned with positives.indices; absent when every weight is 1. */
  positiveWeights?: Float32Array;
  /** The training set plus every labelled pair: the released code's evaluation mask. */
  augmented: Csr;
}

/** The use and weight with defaults filled in and checked (errors name the option). */
export function resolveLabelUse(options: LabelUseOptions): Required<LabelUseOptions> {
  const labelUse = options.labelUse ?? labelUseDefaults.labelUse;
  if (!(labelUses as readonly string[]).includes(labelUse)) {
    throw new RangeError(`Expected labelUse to be one of ${labelUses.join(', ')} but received ${String(labelUse)}`);
  }
  const labelWeight = options.labelWeight ?? labelUseDefaults.labelWeight;
  if (labelWeight !== 'confidence' && !(typeof labelWeight === 'number' && labelWeight > 0 && labelWeight <= 1)) {
    throw new RangeError(`Expected labelWeight in (0, 1] or 'confidence' but received ${String(labelWeight)}`);
  }
  return { labelUse, labelWeight };
}

/** The training inputs of `use` for the labelled pairs on top of the training set. */
export function applyLabelUse(train: Csr, labels: LabelledPairs, options: LabelUseOptions = {}): LabelledTraining {
  const { labelUse, labelWeight } = resolveLabelUse(options);
  const augmented = csrUnion(train, labels.pairs);
  if (labelUse === 'positive') return { positives: augmented, augmented };
  if (labelUse === 'exclude') return { positives: train, nonNegatives: augmented, augmented };
  if (labelWeight === 'confidence' && !labels.confidence) {
    throw new TypeError("Expected labels with a confidence per pair for labelWeight 'confidence' (a labeler that scores, e.g. llama in score mode) but these labels have none");
  }
  const positiveWeights = new Float32Array(augmented.indices.length);
  for (let u = 0; u < augmented.rows; u++) {
    let p = train.indptr[u], q = labels.pairs.indptr[u];
    for (let e = augmented.indptr[u]; e < augmented.indptr[u + 1]; e++) {
      const item = augmented.indices[e];
      while (p < train.indptr[u + 1] && train.indices[p] < item) p++;
      while (q < labels.pairs.indptr[u + 1] && labels.pairs.indices[q] < item) q++;
      if (p < train.indptr[u + 1] && train.indices[p] === item) positiveWeights[e] = 1;
      else positiveWeights[e] = labelWeight === 'confidence' ? labels.confidence![q] : labelWeight;
    }
  }
  return { positives: augmented, positiveWeights, augmented };
}
