/**
 * The DTL-NS pipeline as stages: pretrain -> trees -> candidates -> labels -> train.
 * Each stage writes its artifact into the run folder and records a fingerprint of its
 * options and inputs in stages.json; a stage whose fingerprint is unchanged and whose
 * outputs exist is skipped, so a rerun after a crash or a changed option redoes only what
 * it must. Training and labelling also resume inside a stage (checkpoints, label store).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/types.js';
import { csrUnion } from '../data/csr.js';
import { train, type TrainOptions, type TrainResult } from '../train/train.js';
import { readPaths } from '../trees/path-file.js';
import type { PathCodes } from '../trees/path-codes.js';
import { readCandidates } from '../labels/candidates.js';
import { createLabeler, type LabelerSpec } from '../labels/labelers.js';
import { labelCandidates, labelMetaFile, type LabelJobSummary, type LabelProgress } from '../labels/label.js';
import type { LabelerDevice } from '../labels/types.js';
import { labelConfidence, labelsToPositives, readLabelStore } from '../labels/store.js';
import { importLabels } from '../labels/import.js';
import { applyHeldOutPolicy, type HeldOutPolicy, type HeldOutReport } from '../labels/heldout.js';
import { labelQuality, type LabelQuality } from '../labels/quality.js';
import { evaluateEmbeddings } from '../eval/evaluate.js';
import type { Metrics } from '../eval/metrics.js';
import { readNpy } from '../model/npy.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { withFolderLock } from '../util/lock.js';
import { candidatesStage, fileFingerprint, fingerprint, pretrainStage, runStage, stagesFileLedger, treesStage, type StageRun } from './stages.js';

export type StageName = 'pretrain' | 'trees' | 'candidates' | 'labels' | 'train';

export interface PipelineOptions {
  /** Run folder: every artifact and stages.json. */
  out: string;
  /** Options of the pre-trained recommender (default: the train defaults, uniform negatives). */
  pretrain?: Omit<TrainOptions, 'out' | 'extraPositives'>;
  /**
   * A finished pre-training run folder (user-embeddings.npy, item-embeddings.npy, metrics.json)
   * to use instead of pre-training, e.g. one shared by the cells of an experiment. It is only read.
   */
  pretrained?: string;
  /** Tree options (see buildTrees), or the authors' path files to use instead of building. */
  trees?: { branching?: number; leafSize?: number; seed?: number; pathsStruct?: string; pathsSemantic?: string };
  /** Candidates per user, or a candidate file to use instead of generating. */
  candidates?: { n?: number; file?: string };
  /** The labeler (default rule); kind 'file' answers from the labels in `file` (importLabels). Its paths are filled in by the pipeline. */
  labeler?: Omit<LabelerSpec, 'items' | 'imported'> & { file?: string };
  /** What happens to labels on held-out candidates (src/labels/heldout.ts; default keep), and the seed of 'impute'. */
  heldOut?: { policy: HeldOutPolicy; seed?: number };
  /** Options of the final training (default sampler 'dtlns' with both path codes). */
  train?: Omit<TrainOptions, 'out' | 'extraPositives' | 'pathsCo' | 'pathsSe'>;
  threads?: number;
  onStage?: (stage: StageName, status: 'skipped' | 'running' | 'done', seconds?: number) => void;
  onEpoch?: TrainOptions['onEpoch'];
  onLabelProgress?: (progress: LabelProgress) => void;
}

type SplitMetrics = { valid?: Metrics; test?: Metrics };

export interface PipelineResult {
  out: string;
  /** Absent when nothing needed a pre-trained model (both path files and the candidates were given). */
  pretrain?: { valid?: Metrics; test?: Metrics; epochs: number };
  /** device: where the labels were made (llama), from the label store's metadata. */
  labels: { counts: Record<string, number>; device?: LabelerDevice; quality?: LabelQuality; heldOut: HeldOutReport };
  /** The final model's metrics under both evaluation masks (the original training set is the honest one). */
  train: { original: SplitMetrics; augmented: SplitMetrics; epochs: number; sampler: Record<string, string | number> };
  stages: Record<StageName, { skipped: boolean; seconds: number }>;
}


export async function runPipeline(dataset: Dataset, options: PipelineOptions): Promise<PipelineResult> {
  // One writer per run folder: two runs would redo and overwrite each other's stages.
  return withFolderLock(options?.out, 'out', () => runStages(dataset, options));
}

async function runStages(dataset: Dataset, options: PipelineOptions): Promise<PipelineResult> {
  const out = options.out;
  const ledger = stagesFileLedger(join(out, 'stages.json'));
  const report = {} as PipelineResult['stages'];
  const threads = options.threads;
  const withThreads = <T extends object>(o: T): T => (threads ? { ...o, threads } : o);
  const datasetKey = fingerprint({ name: dataset.name, nUsers: dataset.nUsers, nItems: dataset.nItems, nnz: dataset.train.indices.length });

  /**
   * Runs `work` unless the stage's fingerprint and outputs are unchanged. What a stage
   * left under another fingerprint (`owned`) is removed first; an interrupted run of the
   * same fingerprint is resumed (training checkpoints, the label store).
   */
  const stage = async (name: StageName, fingerprint: string, outputs: string[], owned: string[], work: () => Promise<void>): Promise<void> => {
    const onStage = options.onStage as StageRun['onStage'];
    report[name] = await runStage(ledger, name, fingerprint, { outputs, owned, ...(onStage ? { onStage } : {}) }, work);
  };

  // 1. Pre-train (uniform negatives): its embeddings feed the semantic tree and the candidates,
  // so it is skipped when both path files and the candidates are given.
  const pretrainNeeded = !(options.trees?.pathsStruct && options.trees?.pathsSemantic && options.candidates?.file);
  const pretrainDir = options.pretrained ?? join(out, 'pretrain');
  const pretrainOptions = withThreads({ ...options.pretrain, sampler: 'rns' as const });
  for (const file of options.pretrained ? ['user-embeddings.npy', 'item-embeddings.npy', 'metrics.json'] : []) {
    if (!existsSync(join(pretrainDir, file))) throw new Error(`Expected a finished pre-training run for pretrained but ${join(pretrainDir, file)} is missing`);
  }
  const pretrainKey = options.pretrained
    ? fingerprint({ datasetKey, users: fileFingerprint(join(pretrainDir, 'user-embeddings.npy')), items: fileFingerprint(join(pretrainDir, 'item-embeddings.npy')) })
    : fingerprint({ datasetKey, pretrainOptions: { ...pretrainOptions, onEpoch: undefined, threads: undefined } });
  if (pretrainNeeded || options.pretrained) {
    await stage('pretrain', pretrainKey, [join(pretrainDir, 'item-embeddings.npy'), join(pretrainDir, 'metrics.json')], options.pretrained ? [] : [pretrainDir], async () => {
      if (options.pretrained) return;
      await pretrainStage(dataset, { ...pretrainOptions, ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}) }, pretrainDir);
    });
  }
  const pretrainMetrics = pretrainNeeded || options.pretrained ? JSON.parse(readFileSync(join(pretrainDir, 'metrics.json'), 'utf8')) : undefined;

  // 2. Trees (or the given path files).
  const given = options.trees?.pathsStruct && options.trees?.pathsSemantic;
  const structFile = given ? options.trees!.pathsStruct! : join(out, 'paths-struct.txt');
  const semanticFile = given ? options.trees!.pathsSemantic! : join(out, 'paths-semantic.txt');
  const treesKey = given
    ? fingerprint({ struct: fileFingerprint(structFile), semantic: fileFingerprint(semanticFile) })
    : fingerprint({ pretrainKey, trees: options.trees, datasetKey });
  await stage('trees', treesKey, [structFile, semanticFile], [], async () => {
    if (given) return;
    const { branching, leafSize, seed } = options.trees ?? {};
    await treesStage(dataset, pretrainDir, out, withThreads({
      ...(branching !== undefined ? { branching } : {}), ...(leafSize !== undefined ? { leafSize } : {}), ...(seed !== undefined ? { seed } : {}),
    }));
  });
  const pathsCo: PathCodes = await readPaths(structFile, dataset);
  const pathsSe: PathCodes = await readPaths(semanticFile, dataset);

  // 3. Candidates: the pre-trained model's top-N unobserved items per user (or a given file).
  const candidatesFile = options.candidates?.file ?? join(out, 'candidates.txt');
  const candidatesKey = options.candidates?.file
    ? fingerprint({ file: fileFingerprint(candidatesFile) })
    : fingerprint({ pretrainKey, n: options.candidates?.n ?? 20 });
  await stage('candidates', candidatesKey, [candidatesFile], [], async () => {
    if (options.candidates?.file) return;
    await candidatesStage(dataset, pretrainDir, candidatesFile, withThreads({ n: options.candidates?.n ?? 20 }));
  });
  const candidates = await readCandidates(candidatesFile, dataset);

  // 4. Labels: false negatives among the candidates. The store resumes by itself; a changed labeler starts it over.
  const labelsFile = join(out, 'labels.jsonl');
  const { file: labelFile, ...labelerSpec } = options.labeler ?? { kind: 'rule' as const };
  if (labelerSpec.kind === 'file' && !labelFile) throw new TypeError("Expected a label file for labeler.file with labeler kind 'file'");
  const imported = labelerSpec.kind === 'file' ? await importLabels(labelFile!, dataset) : undefined;
  const labelsKey = fingerprint({
    treesKey, candidatesKey, labeler: { ...labelerSpec, llama: labelerSpec.llama && { ...labelerSpec.llama, threads: undefined, gpu: undefined, gpuLayers: undefined } },
    ...(imported ? { file: imported.provenance.sha256 } : {}),
  });
  await stage('labels', labelsKey, [labelsFile], [labelsFile], async () => {
    const labeler = await createLabeler({ ...labelerSpec, ...(imported ? { imported } : {}), items: { itemIds: dataset.itemIds, structural: pathsCo, semantic: pathsSe } });
    try {
      await labelCandidates(dataset, candidates, { labeler, out: labelsFile, ...(options.onLabelProgress ? { onProgress: options.onLabelProgress } : {}) });
    } finally {
      await labeler.close?.();
    }
  });
  const labelRecords = await readLabelStore(labelsFile);
  const counts: Record<string, number> = { positive: 0, negative: 0, unparsed: 0 };
  for (const r of labelRecords) counts[r.label] = (counts[r.label] ?? 0) + 1;
  // Held-out candidates as the policy says; the report counts the positives that are valid / test interactions.
  const heldOut = applyHeldOutPolicy(labelsToPositives(labelRecords, dataset), candidates, dataset, options.heldOut?.policy ?? 'keep', options.heldOut?.seed ?? 0);
  const extraPositives = heldOut.positives;
  const extraConfidence = labelConfidence(labelRecords, extraPositives, dataset);
  const labelMeta = existsSync(labelMetaFile(labelsFile)) ? (JSON.parse(readFileSync(labelMetaFile(labelsFile), 'utf8')) as LabelJobSummary) : undefined;

  // 5. Train with the multi-view sampler and the augmented positives.
  const trainDir = join(out, 'train');
  const trainOptions = withThreads({ sampler: 'dtlns' as const, ...options.train });
  const trainKey = fingerprint({ labelsKey, ...(options.heldOut ? { heldOut: options.heldOut } : {}), trainOptions: { ...trainOptions, onEpoch: undefined, threads: undefined } });
  let final: TrainResult | undefined;
  await stage('train', trainKey, [join(trainDir, 'user-embeddings.npy'), join(trainDir, 'item-embeddings.npy')], [trainDir], async () => {
    final = await train(dataset, {
      ...trainOptions, pathsCo, pathsSe, extraPositives, ...(extraConfidence ? { extraConfidence } : {}), out: trainDir,
      ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}),
    });
  });
  const userEmb = final?.userEmb ?? readNpy(join(trainDir, 'user-embeddings.npy')).data;
  const itemEmb = final?.itemEmb ?? readNpy(join(trainDir, 'item-embeddings.npy')).data;
  const dim = userEmb.length / dataset.nUsers;
  const masks = { original: dataset.train, augmented: csrUnion(dataset.train, extraPositives) };
  const evaluated: Record<'original' | 'augmented', SplitMetrics> = { original: {}, augmented: {} };
  for (const [name, mask] of Object.entries(masks) as Array<['original' | 'augmented', typeof dataset.train]>) {
    for (const split of ['valid', 'test'] as const) {
      const truth = dataset[split];
      if (truth) evaluated[name][split] = await evaluateEmbeddings(userEmb, itemEmb, dim, truth, withThreads({ mask }));
    }
  }
  const trainMetrics = JSON.parse(readFileSync(join(trainDir, 'metrics.json'), 'utf8'));
  const result: PipelineResult = {
    out,
    ...(pretrainMetrics ? { pretrain: { valid: pretrainMetrics.valid, test: pretrainMetrics.test, epochs: pretrainMetrics.epochs } } : {}),
    labels: { counts, ...(labelMeta?.device ? { device: labelMeta.device } : {}), ...(dataset.hidden ? { quality: labelQuality(labelRecords, dataset) } : {}), heldOut: heldOut.report },
    train: { ...evaluated, epochs: trainMetrics.epochs, sampler: trainMetrics.sampler ?? {} },
    stages: report,
  };
  writeJsonAtomic(join(out, 'metrics.json'), result);
  return result;
}
