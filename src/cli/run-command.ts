/**
 * `dtlns-native run`: the whole DTL-NS pipeline, stage by stage (pretrain -> trees ->
 * candidates -> labels -> train -> eval), each stage's artifact in the run folder and
 * skipped on a rerun when its inputs and options are unchanged. With no arguments it runs
 * on the built-in synthetic dataset with the `rule` labeler; --llm-model switches to an LLM.
 */
import { existsSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { labelDefaults } from '../defaults.js';
import { runPipeline, type PipelineOptions, type PipelineResult } from '../pipeline/pipeline.js';
import type { LabelerKind } from '../labels/labelers.js';
import { labelerCatalogue, labelerFieldsFromArgs, labelerFieldsOf, labelerKinds, missingLabelerInputs, type LabelerEntry } from '../labels/labeler-catalogue.js';
import { commonOptions, dataOptions, labelerOptions, parseList, trainOptions, type LabelerArgs } from './options.js';
import { formatDevice } from '../labels/types.js';
import { createProgress, formatNumber } from './progress.js';
import { loadDatasetFromArgs, trainingOptionsFromArgs, type TrainArgs } from './shared.js';
import { parseLabelWeight } from './sampling.js';
import { heldOutPolicies, type HeldOutPolicy } from '../labels/heldout.js';
import type { LabelUse } from '../labels/use.js';

export interface RunArgs extends TrainArgs, LabelerArgs {
  pretrainEpochs?: number;
  candidates?: string;
  n: number;
  labeler: LabelerKind;
  heldOut: HeldOutPolicy;
}

/** What a stage will need, checked before the first stage runs (not after an hour of pre-training). */
function checkStageInputs(a: RunArgs): true {
  if (Boolean(a.pathsStruct) !== Boolean(a.pathsSemantic)) throw new Error('Give both --paths-struct and --paths-semantic (the trees stage takes both files or builds both trees)');
  for (const [flag, file] of [['--paths-struct', a.pathsStruct], ['--paths-semantic', a.pathsSemantic], ['--candidates', a.candidates], ['--llm-model', a.llmModel]] as const) {
    if (file && !existsSync(file)) throw new Error(`${flag} ${file}: no such file`);
  }
  const missing = missingLabelerInputs(a.llmModel ? 'llama' : a.labeler, a);
  if (missing) throw new Error(missing);
  return true;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'The DTL-NS pipeline: pretrain, trees, candidates, labels, train with the multi-view sampler, eval under both masks',
  builder: (y: Argv) =>
    labelerOptions(commonOptions(trainOptions(dataOptions(y))), 'run')
      .option('epochs', { type: 'number', default: undefined, describe: 'Epoch cap of both trainings (default: 60 on synthetic data, a quick demo; else 1000; early stopping applies)' })
      .option('sampler', { type: 'string', default: 'dtlns', describe: 'Negative sampler of the final training' })
      .option('out', { type: 'string', describe: 'Run folder (default runs/<dataset>); a rerun skips the stages that are up to date' })
      .option('pretrain-epochs', { type: 'number', describe: 'Epoch cap of the pre-training (default: --epochs)' })
      .option('candidates', { type: 'string', describe: 'Use this candidate file ("user c1 ... cN", original ids) instead of generating one' })
      .option('n', { type: 'number', default: labelDefaults.candidates, describe: 'Candidates per user' })
      .option('labeler', { type: 'string', choices: labelerKinds, default: 'rule', describe: `False-negative labeler: ${labelerKinds.map((kind) => labelerCatalogue[kind].doc).join(', ')} (llama when --llm-model is given)` })
      .option('held-out', {
        type: 'string', choices: heldOutPolicies, default: 'keep',
        describe: 'Labels on candidates that are validation/test interactions: keep, impute (at the labeler\'s acceptance rate, seeded: for labels filtered with the ground truth, as the DTL-NS release\'s), or drop',
      })
      .check((a) => {
        const missing = missingLabelerInputs(a.labeler as string, a);
        if (missing) throw new Error(missing);
        return true;
      })
      .option('fresh', { type: 'boolean', default: false, describe: 'Ignore checkpoints of the training stages' })
      .check((a) => checkStageInputs(a as unknown as RunArgs))
      .example('$0 run', 'The whole pipeline on the built-in synthetic dataset (rule labeler)')
      .example('$0 run --data ../shared/datasets/dtlns-sports --paths-struct ../shared/datasets/dtlns-sports/paths-struct.txt --paths-semantic ../shared/datasets/dtlns-sports/paths-semantic.txt --candidates ../shared/datasets/dtlns-sports/candidates.txt', "The paper's setting with the authors' trees and candidates")
      .example('$0 run --data ../shared/datasets/dtlns-sports --llm-model qwen2.5-0.5b-instruct-q8_0.gguf', 'With an LLM labeler')
      .example('$0 run --data ../shared/datasets/dtlns-sports --candidates ../shared/datasets/dtlns-sports/candidates.txt --labels ../shared/datasets/dtlns-sports/llm-positives.txt --held-out impute --label-use exclude', "The authors' LLM labels, held-out candidates imputed, used to exclude false negatives") as unknown as Argv<RunArgs>,
  handler: async (args: ArgumentsCamelCase<RunArgs>) => {
    const dataset = await loadDatasetFromArgs(args);
    const options = pipelineOptionsFromArgs(args, dataset.name);
    const epochs = options.train!.epochs!;
    let progress: ReturnType<typeof createProgress> | undefined;
    const log = (line: string) => (args.quiet ? undefined : process.stderr.write(line + '\n'));
    const result = await runPipeline(dataset, {
      ...options,
      onStage: (stage, status, seconds) => {
        if (status === 'running') {
          log(`stage ${stage}...`);
          if (stage === 'pretrain' || stage === 'train') progress = createProgress(stage, stage === 'pretrain' ? options.pretrain!.epochs! : epochs, { quiet: args.quiet, unit: 'epochs' });
        } else {
          progress?.stop();
          progress = undefined;
          log(`stage ${stage} ${status === 'skipped' ? 'up to date (skipped)' : 'done'} (${(seconds ?? 0).toFixed(1)} s)`);
        }
      },
      onEpoch: (r) => {
        progress?.update(r.epoch, { loss: r.loss, 'samples/s': Math.round(r.samplesPerSecond) });
        if (r.eval) progress?.log(`epoch ${r.epoch}: ${r.eval.split} recall@20 ${r.eval.metrics['recall@20'].toFixed(4)}${r.eval.best ? ' (best)' : ''}`);
      },
    });
    if (result.labels.device) process.stderr.write(`labels: ${formatDevice(result.labels.device)}\n`);
    printPipeline(result, args.json);
  },
};

/** Keys of the final training in the order its stage fingerprint has always hashed them, so an older run folder stays up to date (new keys last). */
const trainKeyOrder = ['model', 'layers', 'dim', 'lr', 'batch', 'l2', 'evalEvery', 'patience', 'optimizer', 'seed', 'ks', 'fresh', 'epochs',
  'sampler', 'negs', 'k', 'alphaCo', 'alphaSe', 'popAlpha', 'dnsTopK', 'positives', 'evalMask', 'timeBudget', 'labelUse', 'labelWeight'];

function inKeyOrder<T extends object>(o: T, order: string[]): T {
  const keys = [...order.filter((key) => Object.hasOwn(o, key)), ...Object.keys(o).filter((key) => !order.includes(key))];
  return Object.fromEntries(keys.map((key) => [key, (o as Record<string, unknown>)[key]])) as T;
}

/** The pipeline's options from `run`'s arguments: the final training takes every `train` option (trainingOptionsFromArgs). */
export function pipelineOptionsFromArgs(args: RunArgs, datasetName: string): Omit<PipelineOptions, 'onStage' | 'onEpoch' | 'onLabelProgress'> {
  const epochs = args.epochs ?? (args.data.startsWith('synthetic') ? 60 : 1000);
  const ks = parseList(args.ks, 'ks');
  const training = { ...trainingOptionsFromArgs(args), ks, fresh: args.fresh, epochs };
  // The pre-training takes the model's options; uniform negatives and the original mask are the pipeline's.
  const { model, layers, dim, lr, batch, l2, evalEvery, patience, optimizer, seed } = training;
  const pretrain = { model, layers, dim, lr, batch, l2, evalEvery, patience, optimizer, seed, ks, fresh: args.fresh, epochs: args.pretrainEpochs ?? epochs };
  // --labels FILE (alias --extra-positives) labels the candidates from a file; --llm-model means llama.
  const labelerKind: LabelerKind = args.extraPositives ? 'file' : args.llmModel ? 'llama' : args.labeler;
  const at = (labelerCatalogue[labelerKind] as LabelerEntry).optionsAt;
  const labelWeight = parseLabelWeight(args.labelWeight);
  return {
    out: args.out ?? `runs/${datasetName.replace(/[^\w.-]+/g, '-')}`,
    threads: args.threads,
    pretrain,
    trees: {
      seed: args.seed,
      ...(args.pathsStruct && args.pathsSemantic ? { pathsStruct: args.pathsStruct, pathsSemantic: args.pathsSemantic } : {}),
    },
    candidates: { n: args.n, ...(args.candidates ? { file: args.candidates } : {}) },
    labeler: {
      // The rule's options whatever the kind, and the codes' seed: the labels stage's fingerprint has always held them.
      kind: labelerKind, ...labelerFieldsFromArgs(labelerFieldsOf('rule'), args, 'run'), seed: args.seed,
      ...(at ? { [at]: { ...labelerFieldsFromArgs(labelerFieldsOf(labelerKind), args, 'run'), ...(at === 'llama' ? { threads: args.threads } : {}) } } : {}),
      ...(labelerKind === 'file' ? { file: args.extraPositives! } : {}),
    },
    ...(args.heldOut !== 'keep' ? { heldOut: { policy: args.heldOut, seed: args.seed } } : {}),
    train: inKeyOrder({
      ...training,
      ...(args.labelUse !== undefined ? { labelUse: args.labelUse as LabelUse } : {}),
      ...(labelWeight !== undefined ? { labelWeight } : {}),
    }, trainKeyOrder),
  };
}

function printPipeline(r: PipelineResult, json: boolean): void {
  const headline = {
    valid: r.train.original.valid, test: r.train.original.test, evalMask: 'original', augmentedMask: r.train.augmented,
    epochs: r.train.epochs, pretrain: r.pretrain, labels: r.labels, sampler: r.train.sampler, stages: r.stages, out: r.out,
  };
  if (json) {
    process.stdout.write(JSON.stringify(headline) + '\n');
    return;
  }
  const fmt = (m?: Record<string, number>) => (m ? `R@20 ${m['recall@20'].toFixed(4)} N@20 ${m['ndcg@20'].toFixed(4)}` : '-');
  const c = r.labels.counts;
  const lines = [
    r.pretrain ? `pretrain (uniform negatives): test ${fmt(r.pretrain.test)} after ${r.pretrain.epochs} epochs` : 'pretrain: not needed (path files and candidates given)',
    `labels: ${formatNumber(c.positive ?? 0)} positive, ${formatNumber(c.negative ?? 0)} negative, ${formatNumber(c.unparsed ?? 0)} unparsed` +
      (r.labels.quality ? ` (vs planted hidden positives: precision ${r.labels.quality.precision.toFixed(3)}, recall ${r.labels.quality.recall.toFixed(3)})` : ''),
    `final (${Object.values(r.train.sampler)[0] ?? ''}, ${r.train.epochs} epochs), original training items masked: valid ${fmt(r.train.original.valid)}, test ${fmt(r.train.original.test)}`,
    `  the same with the augmented training set masked (the DTL-NS release's protocol): test ${fmt(r.train.augmented.test)}`,
    `outputs in ${r.out} (metrics.json, stages.json, paths-*.txt, candidates.txt, labels.jsonl, pretrain/, train/)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
