/** CLI glue for the negative samplers: options -> SamplerOptions, dtlns path files, augmented positives. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/types.js';
import type { SamplerName, SamplerOptions } from '../sampling/options.js';
import type { PositiveOrder } from '../native.js';
import { readExtraPositives } from '../sampling/extra.js';
import { readPaths } from '../trees/paths-file.js';
import type { TrainOptions } from '../train/train.js';
import { formatNumber } from './progress.js';

export interface SamplingArgs {
  data: string;
  sampler: string;
  positives: string;
  negs: number;
  k: number;
  popAlpha: number;
  dnsTopK: number;
  alphaCo: number;
  alphaSe: number;
  pathsStruct?: string;
  pathsSemantic?: string;
  extraPositives?: string;
  quiet?: boolean;
}

/** The path file given on the command line, or `name` inside the --data folder. */
function pathFile(given: string | undefined, data: string, name: string, option: string): string {
  if (given !== undefined) return given;
  const inData = join(data, name);
  if (existsSync(data) && statSync(data).isDirectory() && existsSync(inData)) return inData;
  throw new Error(
    `--sampler dtlns needs the path codes of both item trees, and --${option} is not given and ${inData} does not exist. ` +
      'Build them with `dtlns-native trees --data DATA --embeddings RUN/item-embeddings.npy --out FOLDER` ' +
      '(item embeddings from a pre-trained `dtlns-native train --out RUN`), then pass --paths-struct FOLDER/paths-struct.txt ' +
      '--paths-semantic FOLDER/paths-semantic.txt, or put both files into the --data folder.',
  );
}

/** The sampler and augmented-positive options of a training run, with their files read. */
export async function samplingFromArgs(dataset: Dataset, args: SamplingArgs): Promise<SamplerOptions & Pick<TrainOptions, 'extraPositives'>> {
  const options: SamplerOptions & Pick<TrainOptions, 'extraPositives'> = {
    sampler: args.sampler as SamplerName, positives: args.positives as PositiveOrder, negs: args.negs, k: args.k, popAlpha: args.popAlpha, dnsTopK: args.dnsTopK,
    alphaCo: args.alphaCo, alphaSe: args.alphaSe,
  };
  const log = (line: string) => {
    if (!args.quiet) process.stderr.write(line + '\n');
  };
  if (args.sampler === 'dtlns') {
    const structFile = pathFile(args.pathsStruct, args.data, 'paths-struct.txt', 'paths-struct');
    const semanticFile = pathFile(args.pathsSemantic, args.data, 'paths-semantic.txt', 'paths-semantic');
    options.pathsCo = await readPaths(structFile, dataset);
    options.pathsSe = await readPaths(semanticFile, dataset);
    log(`paths: ${structFile} (depth ${options.pathsCo.maxDepth}), ${semanticFile} (depth ${options.pathsSe.maxDepth})`);
  }
  if (args.extraPositives !== undefined) {
    const extra = await readExtraPositives(args.extraPositives, dataset);
    options.extraPositives = extra.positives;
    log(`extra positives: ${formatNumber(extra.pairs)} pairs from ${args.extraPositives} (${extra.format})`);
  }
  return options;
}
