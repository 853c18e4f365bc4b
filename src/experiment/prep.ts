/**
 * The expensive inputs shared by the cells of one dataset x model, computed once into
 * out/prep/<dataset>-<model>/: the pre-trained model (uniform negatives), our two trees over
 * its embeddings and each user's candidates. Every cell reads them through the pipeline's
 * file options instead of pre-training again. Each step is recorded in prep.json when done,
 * so an interrupted prep resumes (the pre-training from its checkpoint).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/types.js';
import { train, type EpochReport } from '../train/train.js';
import { trainDefaults } from '../defaults.js';
import { buildTrees, semanticPathsFile, structuralPathsFile } from '../trees/build.js';
import { generateCandidates, writeCandidates } from '../labels/candidates.js';
import { readNpy } from '../model/npy.js';
import { writeJsonAtomic } from '../util/atomic.js';
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

interface PrepRecord {
  fingerprint: string;
  done: PrepStep[];
}

export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

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
    fingerprint: digest({ data: dataset.data, pretrain: pretrainOptions(config, model), trees: config.trees, n: config.candidatesPerUser }),
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
  const recordFile = join(files.dir, 'prep.json');
  let record: PrepRecord | undefined = existsSync(recordFile) ? JSON.parse(readFileSync(recordFile, 'utf8')) : undefined;
  if (record?.fingerprint !== files.fingerprint) {
    rmSync(files.dir, { recursive: true, force: true });
    record = { fingerprint: files.fingerprint, done: [] };
    writeJsonAtomic(recordFile, record);
  }
  const step = async (name: PrepStep, work: () => Promise<void>): Promise<void> => {
    if (record!.done.includes(name)) {
      options.onStep?.(name, 'skipped', 0);
      return;
    }
    const started = performance.now();
    await work();
    record!.done.push(name);
    writeJsonAtomic(recordFile, record);
    options.onStep?.(name, 'done', (performance.now() - started) / 1000);
  };
  await step('pretrain', async () => {
    await train(data, { ...pretrainOptions(config, model), threads: options.threads, out: files.pretrainDir, ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}) });
  });
  await step('trees', async () => {
    const { scaling, rowNormalize, ...trees } = config.trees;
    await buildTrees({
      ...trees, dataset: data, embeddings: readNpy(join(files.pretrainDir, 'item-embeddings.npy')), out: files.dir, threads: options.threads,
      spectral: { ...(scaling !== undefined ? { scaling } : {}), ...(rowNormalize !== undefined ? { rowNormalize } : {}) },
    });
  });
  await step('candidates', async () => {
    const users = readNpy(join(files.pretrainDir, 'user-embeddings.npy'));
    const items = readNpy(join(files.pretrainDir, 'item-embeddings.npy'));
    const candidates = await generateCandidates(data, users.data, items.data, users.shape[1], { n: config.candidatesPerUser, users: 'all', threads: options.threads });
    writeCandidates(files.candidates, candidates, data);
  });
  return files;
}
