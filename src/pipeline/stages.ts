/**
 * What `run` (src/pipeline/pipeline.ts) and an experiment's shared prep (src/experiment/prep.ts)
 * have in common: one fingerprint helper, one stage runner (skip a stage whose fingerprint is
 * recorded as done, else run it and record it), and the work of stages 1-3 (pre-train, trees,
 * candidates). Each caller keeps its own record file (a ledger).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/types.js';
import { train, type TrainOptions } from '../train/train.js';
import { buildTrees, type BuildTreesOptions } from '../trees/build.js';
import { generateCandidates, writeCandidates } from '../labels/candidates.js';
import { readNpy } from '../model/npy.js';
import { writeJsonAtomic } from '../util/atomic.js';

/** A short hash of a JSON-ready value: the fingerprint of a stage's options and inputs. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** A short hash of a file's bytes (a given input file in place of a stage's work). */
export function fileFingerprint(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
}

/** Where a runner records which stage ran under which fingerprint. */
export interface StageLedger {
  /** The seconds of a finished run of `name` under `fingerprint`, or undefined. */
  finished(name: string, fingerprint: string): number | undefined;
  /** Whether `name` last ran under another fingerprint (so what it left must go). */
  changed(name: string, fingerprint: string): boolean;
  start(name: string, fingerprint: string): void;
  finish(name: string, fingerprint: string, seconds: number): void;
}

export interface StageRun {
  /** Files the stage writes: a recorded stage is redone when one is missing. */
  outputs?: string[];
  /** What the stage left under another fingerprint, removed before it runs again. */
  owned?: string[];
  onStage?: (name: string, status: 'skipped' | 'running' | 'done', seconds?: number) => void;
}

/** Runs `work` unless the ledger holds `name` as done under `fingerprint` and its outputs exist. */
export async function runStage(ledger: StageLedger, name: string, fingerprint: string, run: StageRun, work: () => Promise<void>): Promise<{ skipped: boolean; seconds: number }> {
  const previous = ledger.finished(name, fingerprint);
  if (previous !== undefined && (run.outputs ?? []).every((p) => existsSync(p))) {
    run.onStage?.(name, 'skipped', previous);
    return { skipped: true, seconds: previous };
  }
  if (ledger.changed(name, fingerprint)) for (const path of run.owned ?? []) rmSync(path, { recursive: true, force: true });
  ledger.start(name, fingerprint);
  run.onStage?.(name, 'running');
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  ledger.finish(name, fingerprint, seconds);
  run.onStage?.(name, 'done', seconds);
  return { skipped: false, seconds };
}

interface StageRecord {
  fingerprint: string;
  /** 'running' until the stage completes: a rerun with the same fingerprint resumes it. */
  status: 'running' | 'done';
  seconds: number;
}

/** A ledger of one fingerprint per stage (the pipeline's stages.json). */
export function stagesFileLedger(file: string): StageLedger {
  const records: Record<string, StageRecord> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const record = (name: string, fingerprint: string, status: StageRecord['status'], seconds: number) => {
    records[name] = { fingerprint, status, seconds };
    writeJsonAtomic(file, records);
  };
  return {
    finished: (name, fp) => (records[name]?.fingerprint === fp && records[name].status === 'done' ? records[name].seconds : undefined),
    changed: (name, fp) => records[name]?.fingerprint !== fp,
    start: (name, fp) => record(name, fp, 'running', 0),
    finish: (name, fp, seconds) => record(name, fp, 'done', seconds),
  };
}

/**
 * A ledger of one fingerprint for all stages and the list of those done (an experiment's
 * prep.json): a changed fingerprint removes `dir` and starts the list over.
 */
export function sharedFingerprintLedger(file: string, dir: string, fp: string): StageLedger {
  let record: { fingerprint: string; done: string[] } | undefined = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  if (record?.fingerprint !== fp) {
    rmSync(dir, { recursive: true, force: true });
    record = { fingerprint: fp, done: [] };
    writeJsonAtomic(file, record);
  }
  const current = record;
  return {
    finished: (name) => (current.done.includes(name) ? 0 : undefined),
    changed: () => false,
    start: () => undefined,
    finish: (name) => {
      current.done.push(name);
      writeJsonAtomic(file, current);
    },
  };
}

/** Stage 1: the pre-trained recommender (uniform negatives) into `out`. */
export async function pretrainStage(dataset: Dataset, options: Omit<TrainOptions, 'out' | 'sampler'>, out: string): Promise<void> {
  await train(dataset, { ...options, sampler: 'rns', out });
}

/** Stage 2: both trees over the pre-trained item embeddings, their path files into `out`. */
export async function treesStage(dataset: Dataset, pretrainDir: string, out: string, options: Omit<BuildTreesOptions, 'dataset' | 'embeddings' | 'out'>): Promise<void> {
  await buildTrees({ ...options, dataset, embeddings: readNpy(join(pretrainDir, 'item-embeddings.npy')), out });
}

/** Stage 3: every user's top-n unobserved items of the pre-trained model, written to `file`. */
export async function candidatesStage(dataset: Dataset, pretrainDir: string, file: string, options: { n: number; threads?: number }): Promise<void> {
  const users = readNpy(join(pretrainDir, 'user-embeddings.npy'));
  const items = readNpy(join(pretrainDir, 'item-embeddings.npy'));
  const candidates = await generateCandidates(dataset, users.data, items.data, users.shape[1], { n: options.n, users: 'all', ...(options.threads ? { threads: options.threads } : {}) });
  writeCandidates(file, candidates, dataset);
}
