/**
 * `dtlns-native run`: the whole DTL-NS pipeline, stage by stage (pretrain -> trees ->
 * candidates -> labels -> train -> eval), each stage's artifact in the run folder and
 * skipped on a rerun when its inputs and options are unchanged. With no arguments it runs
 * on the built-in synthetic dataset with the `rule` labeler; --llm-model switches to an LLM.
 */
import { existsSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { labelDefaults } from '../defaults.js';
import { runPipeline, type PipelineResult } from '../pipeline/run.js';
import type { LabelerKind } from '../labels/labelers.js';
import { labelerKinds } from '../labels/labelers.js';
import { commonOptions, dataOptions, parseList, trainOptions } from './options.js';
import { createProgress, formatNumber } from './progress.js';
import { loadDatasetFromArgs, type TrainArgs } from './shared.js';

interface RunArgs extends TrainArgs {
  pretrainEpochs?: number;
  candidates?: string;
  n: number;
  labeler: LabelerKind;
  theta: number;
  llmModel?: string;
  llmUrl?: string;
  llmModelName?: string;
  mode: 'score' | 'generate';
}

/** What a stage will need, checked before the first stage runs (not after an hour of pre-training). */
function checkStageInputs(a: RunArgs): true {
  if (Boolean(a.pathsStruct) !== Boolean(a.pathsSemantic)) throw new Error('Give both --paths-struct and --paths-semantic (the trees stage takes both files or builds both trees)');
  for (const [flag, file] of [['--paths-struct', a.pathsStruct], ['--paths-semantic', a.pathsSemantic], ['--candidates', a.candidates], ['--llm-model', a.llmModel]] as const) {
    if (file && !existsSync(file)) throw new Error(`${flag} ${file}: no such file`);
  }
  const kind = a.llmModel ? 'llama' : a.labeler;
  if (kind === 'llama' && !a.llmModel) throw new Error('--labeler llama needs --llm-model PATH.gguf');
  if (kind === 'openai' && !(a.llmUrl && a.llmModelName)) throw new Error('--labeler openai needs --llm-url and --llm-model-name');
  return true;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'The DTL-NS pipeline: pretrain, trees, candidates, labels, train with the multi-view sampler, eval under both masks',
  builder: (y: Argv) =>
    commonOptions(trainOptions(dataOptions(y)))
      .option('epochs', { type: 'number', default: undefined, describe: 'Epoch cap of both trainings (default: 60 on synthetic data, a quick demo; else 1000; early stopping applies)' })
      .option('sampler', { type: 'string', default: 'dtlns', describe: 'Negative sampler of the final training (rns, pop, dns, mixgcf, dtlns)' })
      .option('out', { type: 'string', describe: 'Run folder (default runs/<dataset>); a rerun skips the stages that are up to date' })
      .option('pretrain-epochs', { type: 'number', describe: 'Epoch cap of the pre-training (default: --epochs)' })
      .option('candidates', { type: 'string', describe: 'Use this candidate file ("user c1 ... cN", original ids) instead of generating one' })
      .option('n', { type: 'number', default: labelDefaults.candidates, describe: 'Candidates per user' })
      .option('labeler', { type: 'string', choices: labelerKinds, default: 'rule', describe: 'False-negative labeler (llama when --llm-model is given)' })
      .option('theta', { type: 'number', default: labelDefaults.theta, describe: 'rule: prefix-similarity threshold' })
      .option('llm-model', { type: 'string', describe: 'A GGUF instruct model: label with it in-process (node-llama-cpp)' })
      .option('mode', { type: 'string', choices: ['score', 'generate'], default: 'score', describe: 'llama: compare answer probabilities, or generate under a grammar' })
      .option('llm-url', { type: 'string', describe: 'openai: base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (key from OPENAI_API_KEY)' })
      .option('llm-model-name', { type: 'string', describe: 'openai: the model name the server serves' })
      .option('fresh', { type: 'boolean', default: false, describe: 'Ignore checkpoints of the training stages' })
      .check((a) => checkStageInputs(a as unknown as RunArgs))
      .example('$0 run', 'The whole pipeline on the built-in synthetic dataset (rule labeler)')
      .example('$0 run --data ../shared/datasets/dtlns-sports --paths-struct ../shared/datasets/dtlns-sports/paths-struct.txt --paths-semantic ../shared/datasets/dtlns-sports/paths-semantic.txt --candidates ../shared/datasets/dtlns-sports/candidates.txt', "The paper's setting with the authors' trees and candidates")
      .example('$0 run --data ../shared/datasets/dtlns-sports --llm-model qwen2.5-0.5b-instruct-q8_0.gguf', 'With an LLM labeler') as unknown as Argv<RunArgs>,
  handler: async (args: ArgumentsCamelCase<RunArgs>) => {
    const dataset = await loadDatasetFromArgs(args);
    const epochs = args.epochs ?? (args.data.startsWith('synthetic') ? 60 : 1000);
    const out = args.out ?? `runs/${dataset.name.replace(/[^\w.-]+/g, '-')}`;
    const ks = parseList(args.ks, 'ks');
    const common = {
      model: args.model as 'mf' | 'lightgcn', layers: args.layers, dim: args.dim, lr: args.lr, batch: args.batch, l2: args.l2,
      evalEvery: args.evalEvery, patience: args.patience, optimizer: args.optimizer as 'adam', seed: args.seed, ks, fresh: args.fresh,
    };
    let progress: ReturnType<typeof createProgress> | undefined;
    const log = (line: string) => (args.quiet ? undefined : process.stderr.write(line + '\n'));
    const labelerKind: LabelerKind = args.llmModel ? 'llama' : args.labeler;
    const result = await runPipeline(dataset, {
      out,
      threads: args.threads,
      pretrain: { ...common, epochs: args.pretrainEpochs ?? epochs },
      trees: {
        seed: args.seed,
        ...(args.pathsStruct && args.pathsSemantic ? { pathsStruct: args.pathsStruct, pathsSemantic: args.pathsSemantic } : {}),
      },
      candidates: { n: args.n, ...(args.candidates ? { file: args.candidates } : {}) },
      labeler: {
        kind: labelerKind, theta: args.theta, seed: args.seed,
        ...(labelerKind === 'llama' ? { llama: { modelPath: args.llmModel!, mode: args.mode, threads: args.threads } } : {}),
        ...(labelerKind === 'openai' ? { openai: { url: args.llmUrl!, modelName: args.llmModelName! } } : {}),
      },
      train: {
        ...common, epochs, sampler: args.sampler as 'dtlns', negs: args.negs, k: args.k, alphaCo: args.alphaCo, alphaSe: args.alphaSe,
        popAlpha: args.popAlpha, dnsTopK: args.dnsTopK, evalMask: args.evalMask as 'original',
      },
      onStage: (stage, status, seconds) => {
        if (status === 'running') {
          log(`stage ${stage}...`);
          if (stage === 'pretrain' || stage === 'train') progress = createProgress(stage, stage === 'pretrain' ? args.pretrainEpochs ?? epochs : epochs, { quiet: args.quiet, unit: 'epochs' });
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
    printPipeline(result, args.json);
  },
};

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
    `pretrain (uniform negatives): test ${fmt(r.pretrain.test)} after ${r.pretrain.epochs} epochs`,
    `labels: ${formatNumber(c.positive ?? 0)} positive, ${formatNumber(c.negative ?? 0)} negative, ${formatNumber(c.unparsed ?? 0)} unparsed` +
      (r.labels.quality ? ` (vs planted hidden positives: precision ${r.labels.quality.precision.toFixed(3)}, recall ${r.labels.quality.recall.toFixed(3)})` : ''),
    `final (${Object.values(r.train.sampler)[0] ?? ''}, ${r.train.epochs} epochs), original training items masked: valid ${fmt(r.train.original.valid)}, test ${fmt(r.train.original.test)}`,
    `  the same with the augmented training set masked (the DTL-NS release's protocol): test ${fmt(r.train.augmented.test)}`,
    `outputs in ${r.out} (metrics.json, stages.json, paths-*.txt, candidates.txt, labels.jsonl, pretrain/, train/)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
