/**
 * The expensive inputs shared by the cells of one dataset x model, computed once into
 * out/prep/<dataset>-<model>/: the pre-trained model (uniform negatives), our two trees over
 * its embeddings and each user's candidates. Every cell reads them through the pipeline's
 * file options instead of pre-training again. Each step is recorded in prep.json when done,
 * so an interrupted prep resumes (the pre-training from its checkpoint).
 */
import { join } from 'node:path';
import type { Dataset } from '../data/types.js';
import type { EpochReport } from '../train/train.js';
import { trainDefaults } from '../defaults.js';
import { semanticPathsFile, structuralPathsFile } from '../trees/build.js';
import { candidatesStage, fingerprint, pretrainStage, runStage, sharedFingerprintLedger, treesStage } from '../pipeline/stages.js';
import type { DatasetSpec, ExperimentConfig, ModelSpec } from './grid.js';

export interface PrepFiles {
  dir: string;
  /** A finished training run folder (embeddings, metrics.json): the pipeline's `pretrained`. */
  pretrainDir: string;
  pathsStruct: string;
  pathsSemantic: string;
  candidates: string;
  /** Changes whenever an option that shapes these files changes. */
  fingerprint: string;
}

type PrepStep = 'pretrain' | 'trees' | 'candidates';


/** The model's training options without its display name. */
export function modelOptions(model: ModelSpec): Omit<ModelSpec, 'name'> {
  const { name: _name, ...options } = model;
  return options;
}

/** The pre-training options of a dataset x model: the config's pretrain settings under the model's own. */
export function pretrainOptions(config: ExperimentConfig, model: ModelSpec) {
  const { seed, ...settings } = config.pretrain;
  return { ...settings, ...modelOptions(model), seed: seed ?? trainDefaults.seed, sampler: 'rns' as const };
}

export function prepFiles(config: ExperimentConfig, dataset: DatasetSpec, model: ModelSpec): PrepFiles {
  const dir = join(config.out, 'prep', `${dataset.name}-${model.name}`);
  return {
    dir,
    pretrainDir: join(dir, 'pretrain'),
    pathsStruct: join(dir, structuralPathsFile),
    pathsSemantic: join(dir, semanticPathsFile),
    candidates: join(dir, 'candidates.txt'),
    fingerprint: fingerprint({ data: dataset.data, pretrain: pretrainOptions(config, model), trees: config.trees, n: config.candidatesPerUser }),
  };
}

export interface PrepOptions {
  threads: number;
  onEpoch?: (report: EpochReport) => void;
  onStep?: (step: PrepStep, status: 'skipped' | 'done', seconds: number) => void;
}

/** Computes whatever of a dataset x model's shared inputs is not done yet; returns where they are. */
export async function ensurePrep(config: ExperimentConfig, dataset: DatasetSpec, model: ModelSpec, data: Dataset, options: PrepOptions): Promise<PrepFiles> {
  const files = prepFiles(config, dataset, model);
  const ledger = sharedFingerprintLedger(join(files.dir, 'prep.json'), files.dir, files.fingerprint);
  const onStage = (name: string, status: 'skipped' | 'running' | 'done', seconds?: number) => {
    if (status !== 'running') options.onStep?.(name as PrepStep, status, seconds ?? 0);
  };
  const step = (name: PrepStep, work: () => Promise<void>) => runStage(ledger, name, files.fingerprint, { onStage }, work);
  await step('pretrain', () =>
    pretrainStage(data, { ...pretrainOptions(config, model), threads: options.threads, ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}) }, files.pretrainDir));
  await step('trees', () => {
    const { scaling, rowNormalize, ...trees } = config.trees;
    return treesStage(data, files.pretrainDir, files.dir, {
      ...trees, threads: options.threads,
      spectral: { ...(scaling !== undefined ? { scaling } : {}), ...(rowNormalize !== undefined ? { rowNormalize } : {}) },
    });
  });
  await step('candidates', () => candidatesStage(data, files.pretrainDir, files.candidates, { n: config.candidatesPerUser, threads: options.threads }));
  return files;
}
