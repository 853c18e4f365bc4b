/** CLI glue for the negative samplers: options -> SamplerOptions, dtlns path files, augmented positives. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/types.js';
import type { SamplerOptions } from '../sampling/options.js';
import { samplerCatalogue } from '../sampling/catalogue.js';
import { samplerOptionsFromArgs } from './options.js';
import { importLabels } from '../labels/import.js';
import { readPaths } from '../trees/path-file.js';
import type { TrainOptions } from '../train/train.js';
import { formatNumber } from './progress.js';
import type { LabelUse } from '../labels/use.js';
import { labelUseDefaults } from '../defaults.js';

/** The sampler's fields come from the sampler catalogue (samplerOptions). */
export interface SamplingArgs {
  data: string;
  sampler: string;
  pathsStruct?: string;
  pathsSemantic?: string;
  extraPositives?: string;
  labelUse?: string;
  labelWeight?: string;
  quiet?: boolean;
}

/** --label-weight: a number, or 'confidence'. */
export function parseLabelWeight(text: string | undefined): number | 'confidence' | undefined {
  if (text === undefined || text === 'confidence') return text;
  const w = Number(text);
  if (text.trim() === '' || !(w > 0 && w <= 1)) throw new RangeError(`Expected --label-weight in (0, 1] or "confidence" but received "${text}"`);
  return w;
}

/** The path file given on the command line, or `name` inside the --data folder. */
function pathFile(given: string | undefined, data: string, name: string, option: string, sampler: string): string {
  if (given !== undefined) return given;
  const inData = join(data, name);
  if (existsSync(data) && statSync(data).isDirectory() && existsSync(inData)) return inData;
  throw new Error(
    `--sampler ${sampler} needs the path codes of both item trees, and --${option} is not given and ${inData} does not exist. ` +
      'Build them with `dtlns-native trees --data DATA --embeddings RUN/item-embeddings.npy --out FOLDER` ' +
      '(item embeddings from a pre-trained `dtlns-native train --out RUN`), then pass --paths-struct FOLDER/paths-struct.txt ' +
      '--paths-semantic FOLDER/paths-semantic.txt, or put both files into the --data folder.',
  );
}

/** The sampler and augmented-positive options of a training run, with their files read. */
type SamplingOptions = SamplerOptions & Pick<TrainOptions, 'extraPositives' | 'extraConfidence' | 'labelUse' | 'labelWeight'>;

export async function samplingFromArgs(dataset: Dataset, args: SamplingArgs): Promise<SamplingOptions> {
  const labelWeight = parseLabelWeight(args.labelWeight);
  if ((args.labelUse !== undefined || labelWeight !== undefined) && args.extraPositives === undefined) {
    throw new TypeError(`Expected --labels FILE (or --extra-positives) for --${args.labelUse !== undefined ? 'label-use' : 'label-weight'} to act on`);
  }
  const options: SamplingOptions = samplerOptionsFromArgs(args);
  const log = (line: string) => {
    if (!args.quiet) process.stderr.write(line + '\n');
  };
  if (samplerCatalogue[options.sampler!]?.capabilities.readsPaths) {
    const structFile = pathFile(args.pathsStruct, args.data, 'paths-struct.txt', 'paths-struct', args.sampler);
    const semanticFile = pathFile(args.pathsSemantic, args.data, 'paths-semantic.txt', 'paths-semantic', args.sampler);
    options.pathsCo = await readPaths(structFile, dataset);
    options.pathsSe = await readPaths(semanticFile, dataset);
    log(`paths: ${structFile} (depth ${options.pathsCo.maxDepth}), ${semanticFile} (depth ${options.pathsSe.maxDepth})`);
  }
  if (args.extraPositives !== undefined) {
    const extra = await importLabels(args.extraPositives, dataset);
    options.extraPositives = extra.positives;
    if (extra.confidence) options.extraConfidence = extra.confidence;
    if (args.labelUse !== undefined) options.labelUse = args.labelUse as LabelUse;
    if (labelWeight !== undefined) options.labelWeight = labelWeight;
    log(`labels: ${formatNumber(extra.pairs)} pairs from ${args.extraPositives} (${extra.format}), used as ${args.labelUse ?? labelUseDefaults.labelUse}`);
  }
  return options;
}
