/** A training run folder's final embeddings -> an ONNX file (written atomically). */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/types.js';
import { readNpy } from '../model/npy.js';
import { writeFileAtomic } from '../util/atomic.js';
import { exportOnnx } from './onnx.js';

export interface ExportRunOptions {
  /** The ONNX file to write. */
  onnx: string;
  k: number;
  maskTraining: boolean;
}

export interface ExportRunResult {
  onnx: string;
  bytes: number;
  nUsers: number;
  nItems: number;
  dim: number;
  k: number;
  maskTraining: boolean;
  seconds: number;
}

/** Reads `<run>/user-embeddings.npy` and `<run>/item-embeddings.npy`, checks them against the dataset, writes the model. */
export function exportRun(run: string, dataset: Dataset, options: ExportRunOptions): ExportRunResult {
  const started = performance.now();
  if (!existsSync(run) || !statSync(run).isDirectory()) throw new Error(`${run}: no such run folder (write one with \`dtlns-native train --out DIR\`)`);
  const read = (file: string) => {
    const path = join(run, file);
    if (!existsSync(path)) throw new Error(`${path}: missing; is ${run} a finished training run folder?`);
    const array = readNpy(path);
    if (array.shape.length !== 2) throw new RangeError(`${path}: expected a 2-d array but found shape (${array.shape.join(', ')})`);
    return array;
  };
  const users = read('user-embeddings.npy');
  const items = read('item-embeddings.npy');
  const dim = users.shape[1];
  if (users.shape[0] !== dataset.nUsers || items.shape[0] !== dataset.nItems || items.shape[1] !== dim) {
    throw new RangeError(
      `Embeddings of shape ${users.shape.join('x')} (users) and ${items.shape.join('x')} (items) do not match the dataset's ` +
        `${dataset.nUsers} users and ${dataset.nItems} items (was the run trained on ${dataset.name}?)`,
    );
  }
  if (!Number.isInteger(options.k) || options.k < 1 || options.k > dataset.nItems) {
    throw new RangeError(`Expected k between 1 and ${dataset.nItems} (the item count) but received ${options.k}`);
  }
  const bytes = exportOnnx(users.data, items.data, dim, { k: options.k, maskTraining: options.maskTraining });
  writeFileAtomic(options.onnx, bytes);
  return {
    onnx: options.onnx, bytes: bytes.length, nUsers: dataset.nUsers, nItems: dataset.nItems, dim, k: options.k,
    maskTraining: options.maskTraining, seconds: (performance.now() - started) / 1000,
  };
}
