/** Option groups shared by several commands, with their defaults from src/defaults.ts. */
import type { Argv } from 'yargs';
import { defaultThreads, evalDefaults, labelUseDefaults, optimizerNames, samplerDefaults, trainDefaults } from '../defaults.js';
import { samplerCatalogue, samplerFieldNames, samplerFieldSpecs, samplerFlag, samplerNames, type SamplerFieldValues, type SamplerName } from '../sampling/catalogue.js';
import { labelUses } from '../labels/use.js';
import { labelerFieldNames, labelerFieldSpecs, labelerFlag } from '../labels/labeler-catalogue.js';

export function dataOptions<T>(y: Argv<T>) {
  return y
    .option('data', {
      type: 'string',
      default: 'synthetic',
      describe:
        'A dataset folder (train.txt, valid.txt, test.txt, optionally .gz), one interactions file (user item pairs, ' +
        '"user item item ..." lines, CSV/TSV with a header, MovieLens u.data), a NAME.dataset.json manifest (one file and its split, ' +
        'which win over --format/--split), or synthetic[:tiny|small|medium|gowalla-size|large]',
    })
    .option('format', { type: 'string', choices: ['auto', 'lines', 'pairs', 'csv', 'udata'], default: 'auto', describe: 'Input format: "user item item ..." lines, "user item" pairs, CSV/TSV with a header, MovieLens u.data' })
    .option('min-rating', { type: 'number', describe: 'Drop rated interactions below this rating' })
    .option('split', {
      type: 'string',
      choices: ['random', 'leave-last-out', 'temporal'],
      default: 'random',
      describe: 'How to split a single file: per-user random ratio, per-user leave-last-out by timestamp, or a global temporal cut',
    })
    .option('split-ratio', { type: 'string', default: '0.8,0.1,0.1', describe: 'train,valid,test fractions for random/temporal splits' })
    .option('drop-cold-users', { type: 'boolean', describe: 'Drop valid/test users without a training interaction (default: an error, except for temporal splits)' });
}

export function trainOptions<T>(y: Argv<T>) {
  const out = y
    .option('model', { type: 'string', choices: ['mf', 'lightgcn'], default: trainDefaults.model, describe: 'Recommender model' })
    .option('layers', { type: 'number', default: trainDefaults.layers, describe: 'LightGCN layers (0-4; 0 is MF)' })
    .option('dim', { type: 'number', default: trainDefaults.dim, describe: 'Embedding size' })
    .option('lr', { type: 'number', default: trainDefaults.lr, describe: 'Learning rate' })
    .option('batch', { type: 'number', default: trainDefaults.batch, describe: 'Training pairs per step' })
    .option('l2', { type: 'number', default: trainDefaults.l2, describe: 'L2 weight on the batch rows of the layer-0 embeddings' })
    .option('epochs', { type: 'number', default: trainDefaults.epochs, describe: 'Maximum epochs (early stopping usually ends sooner)' })
    .option('eval-every', { type: 'number', default: trainDefaults.evalEvery, describe: 'Evaluate every N epochs' })
    .option('patience', { type: 'number', default: trainDefaults.patience, describe: 'Stop after N evaluations without a better valid Recall@20' })
    .option('time-budget', { type: 'number', describe: 'Seconds of training (evaluations included) after which it stops like an early stop, keeping the best model' })
    .option('optimizer', {
      type: 'string', choices: optimizerNames, default: trainDefaults.optimizer,
      describe: "adam: PyTorch's dense Adam; lazy-adam/sgd: the fast row-sparse options (MF, lock-free over threads)",
    })
    .option('eval-mask', {
      type: 'string', choices: ['original', 'augmented'], default: 'original',
      describe: 'Items removed from rankings at evaluation: the original training set (honest), or the augmented one (as the DTL-NS release)',
    })
    .option('seed', { type: 'number', default: trainDefaults.seed, describe: 'Random seed (initialisation, sampling, splits)' })
    .option('ks', { type: 'string', default: evalDefaults.ks.join(','), describe: 'Metric cut-offs' });
  return samplerOptions(out)
    .option('paths-struct', { type: 'string', describe: 'dtlns: structural-tree path file ("item 0-1-3-2" lines; default: paths-struct.txt in the --data folder)' })
    .option('paths-semantic', { type: 'string', describe: 'dtlns: semantic-tree path file (default: paths-semantic.txt in the --data folder)' })
    .option('extra-positives', {
      type: 'string',
      alias: 'labels',
      describe: 'Labelled false negatives: a label store (.jsonl from `dtlns-native label`) or "user item" pairs, original ids; never drawn as negatives, and used as --label-use says',
    })
    .option('label-use', {
      type: 'string', choices: labelUses,
      describe: `What the labels do (default ${labelUseDefaults.labelUse}): positive = trained as positives (the paper); exclude = only never drawn as negatives or hard-negative candidates; weighted = positives with --label-weight`,
    })
    .option('label-weight', {
      type: 'string',
      describe: `--label-use weighted: each labelled positive's loss weight in (0, 1], or "confidence" for the labeler's own score (default ${labelUseDefaults.labelWeight})`,
    });
}

/** --sampler and each sampler field's option, derived from the sampler catalogue. */
export function samplerOptions<T>(y: Argv<T>, defaultName: SamplerName = samplerDefaults.sampler) {
  let out = y.option('sampler', {
    type: 'string', choices: samplerNames, default: defaultName,
    describe: `Negatives: ${samplerNames.map((name) => samplerCatalogue[name].doc).join(', ')}`,
  });
  for (const name of samplerFieldNames) {
    const spec = samplerFieldSpecs[name];
    out = out.option(samplerFlag(name), {
      type: spec.kind === 'choice' ? 'string' : 'number', default: spec.default, describe: spec.doc, ...(spec.choices ? { choices: spec.choices } : {}),
    });
  }
  return out as Argv<T & { sampler: string } & Required<SamplerFieldValues>>;
}

/** The SamplerOptions of parsed arguments (checked by resolveSampler). */
export function samplerOptionsFromArgs(args: object): SamplerFieldValues & { sampler: SamplerName } {
  const a = args as Record<string, unknown>;
  const camel = (flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  return {
    sampler: a.sampler as SamplerName,
    ...Object.fromEntries(samplerFieldNames.flatMap((name) => (a[camel(samplerFlag(name))] === undefined ? [] : [[name, a[camel(samplerFlag(name))]]]))),
  };
}

/** The labeler options `command` declares (the fields of the labeler catalogue it lists), in catalogue order. */
export function labelerOptions<T>(y: Argv<T>, command: 'label' | 'run') {
  let out = y;
  for (const name of labelerFieldNames) {
    const spec = labelerFieldSpecs[name];
    if (!spec.cli.includes(command)) continue;
    out = out.option(labelerFlag(name), {
      type: spec.kind === 'boolean' ? 'boolean' : spec.kind === 'integer' || spec.kind === 'number' ? 'number' : 'string',
      describe: spec.doc, ...(spec.default !== undefined ? { default: spec.default } : {}), ...(spec.choices ? { choices: spec.choices } : {}),
    });
  }
  return out as Argv<T & LabelerArgs>;
}

/** The labeler arguments the commands read by name (the others reach the labeler through labelerFieldsFromArgs). */
export interface LabelerArgs {
  /** llama's model file (--llm-model). */
  llmModel?: string;
}

export function commonOptions<T>(y: Argv<T>) {
  return y
    .option('threads', { type: 'number', default: defaultThreads(), describe: 'Worker threads for native kernels (default: cores, or DTLNS_THREADS)' })
    .option('out', { type: 'string', describe: 'Run folder for checkpoints, models and metrics' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object (figures only) as the last stdout line' })
    .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' });
}

export function parseList(text: string, name: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new RangeError(`Expected a comma-separated list of numbers for --${name} but received "${text}"`);
  return values;
}
