/**
 * The experiment's tables: per dataset x model x method, test Recall@20 / NDCG@20 as mean ±
 * sample std over seeds under the original mask (and the augmented one where the method adds
 * positives), the relative change against the best baseline and a paired t-test over seeds
 * against it. As an object (summary.json), Markdown and CSV.
 */
import type { CellResult } from './cells.js';
import { mean, pairedTTest, sampleStd } from './stats.js';

/** The parts of a cell result the summary reads. */
export type SummaryInput = Pick<CellResult, 'dataset' | 'model' | 'method' | 'sampler' | 'labeler' | 'seed' | 'test' | 'history' | 'epochs' | 'stoppedBy' | 'seconds'> &
  Partial<Pick<CellResult, 'labels' | 'bestEpoch' | 'samplesPerEpoch'>>;

export interface MeanStd {
  mean: number;
  /** Sample std (n - 1); NaN with one seed. */
  std: number;
  n: number;
}

export interface MaskStats {
  recall: MeanStd;
  ndcg: MeanStd;
}

export interface Comparison {
  baseline: string;
  /** 100 x (mean - baseline mean) / baseline mean, of Recall@20. */
  changePct: number;
  /** Two-sided paired t-test over the seeds both have; NaN when undefined. */
  p: number;
  t: number;
  pairs: number;
}

export interface SummaryRow {
  method: string;
  sampler: string;
  labeler: string;
  seeds: number[];
  original: MaskStats;
  /** Present when the method adds positives: its augmented training set removed from the rankings too. */
  augmented?: MaskStats;
  /** Against the best baseline (absent for that baseline itself, or without baselines). */
  vsBaseline?: { original: Comparison; augmented?: Comparison };
  baseline: boolean;
  bestBaseline: boolean;
  epochs: MeanStd;
  seconds: MeanStd;
  /** How many seeds' trainings ended by each reason (epochs, patience, time). */
  stoppedBy: Record<string, number>;
  /**
   * Equal compute: the best validation Recall@20 the method reached within the best baseline's
   * training samples (its seeds' mean samples up to their best epoch), mean over seeds.
   */
  equalCompute?: MeanStd;
  /** Methods with labels: their use, the held-out policy, and the mean labelled positives and how many are validation / test interactions. */
  labels?: { use: string; heldOut: string; positives: number; heldOutPositives: number };
}

/** Mean validation Recall@20 of a method at one epoch, over the seeds that reached it. */
export interface CurveMean {
  method: string;
  epoch: number;
  recall: number;
  seeds: number;
}

export interface SummaryGroup {
  dataset: string;
  model: string;
  bestBaseline?: string;
  /** The training samples (positives trained) of the equal-compute view: the best baseline's mean up to its best epoch. */
  equalComputeSamples?: number;
  rows: SummaryRow[];
  curves: CurveMean[];
}

export interface ExperimentSummary {
  name: string;
  metric: 'recall@20';
  baselines: string[];
  cells: { expected: number; finished: number };
  groups: SummaryGroup[];
}

const K = 20;

function stats(values: number[]): MeanStd {
  return { mean: mean(values), std: sampleStd(values), n: values.length };
}

function metricOf(r: SummaryInput, mask: 'original' | 'augmented', name: 'recall' | 'ndcg'): number | undefined {
  return r.test[mask]?.[`${name}@${K}`];
}

/** Recall@20 of a cell under a mask; a cell that adds no positives has the same ranking under both. */
function recallUnder(r: SummaryInput, mask: 'original' | 'augmented'): number | undefined {
  return metricOf(r, mask, 'recall') ?? metricOf(r, 'original', 'recall');
}

function compare(cells: SummaryInput[], base: SummaryInput[], baseline: string, mask: 'original' | 'augmented'): Comparison {
  const bySeed = new Map(base.map((r) => [r.seed, recallUnder(r, 'original')]));
  const a: number[] = [], b: number[] = [];
  for (const r of cells) {
    const x = recallUnder(r, mask), y = bySeed.get(r.seed);
    if (x !== undefined && y !== undefined) {
      a.push(x);
      b.push(y);
    }
  }
  const ours = mean(cells.flatMap((r) => recallUnder(r, mask) ?? []));
  const theirs = mean(base.flatMap((r) => recallUnder(r, 'original') ?? []));
  const test = pairedTTest(a, b);
  return { baseline, changePct: (100 * (ours - theirs)) / theirs, p: test.p, t: test.t, pairs: a.length };
}

function maskStats(cells: SummaryInput[], mask: 'original' | 'augmented'): MaskStats | undefined {
  const recall = cells.flatMap((r) => metricOf(r, mask, 'recall') ?? []);
  if (recall.length === 0) return undefined;
  return { recall: stats(recall), ndcg: stats(cells.flatMap((r) => metricOf(r, mask, 'ndcg') ?? [])) };
}

function curves(method: string, cells: SummaryInput[]): CurveMean[] {
  const byEpoch = new Map<number, number[]>();
  for (const r of cells) for (const p of r.history) if (p.split === 'valid') byEpoch.set(p.epoch, [...(byEpoch.get(p.epoch) ?? []), p['recall@20']]);
  return [...byEpoch].sort(([a], [b]) => a - b).map(([epoch, values]) => ({ method, epoch, recall: mean(values), seeds: values.length }));
}

/** Groups results by dataset x model (in order of appearance) and reduces each method over its seeds. */
export function summarizeResults(results: SummaryInput[], options: { name: string; baselines: string[]; expectedCells?: number }): ExperimentSummary {
  if (!Array.isArray(results)) throw new TypeError(`Expected an array of cell results for results but received ${String(results)}`);
  const groups = new Map<string, SummaryInput[]>();
  for (const r of results) {
    const key = JSON.stringify([r.dataset, r.model]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const summary: ExperimentSummary = {
    name: options.name, metric: 'recall@20', baselines: options.baselines,
    cells: { expected: options.expectedCells ?? results.length, finished: results.length }, groups: [],
  };
  for (const cells of groups.values()) {
    const methods = new Map<string, SummaryInput[]>();
    for (const r of cells) methods.set(r.method, [...(methods.get(r.method) ?? []), r].sort((x, y) => x.seed - y.seed));
    const rows: SummaryRow[] = [...methods].map(([method, mine]) => {
      const stoppedBy: Record<string, number> = {};
      for (const r of mine) stoppedBy[r.stoppedBy] = (stoppedBy[r.stoppedBy] ?? 0) + 1;
      const augmented = mine[0].labeler !== 'none' ? maskStats(mine, 'augmented') : undefined;
      const held = mine.flatMap((r) => (r.labels?.heldOut ? [r.labels.heldOut] : []));
      const labels = held.length
        ? {
            use: mine[0].labels?.labelUse ?? 'positive', heldOut: held[0].policy, positives: mean(held.map((h) => h.positives)),
            heldOutPositives: mean(held.map((h) => h.positivesInValid + h.positivesInTest)),
          }
        : undefined;
      return {
        method, sampler: mine[0].sampler, labeler: mine[0].labeler, seeds: mine.map((r) => r.seed),
        original: maskStats(mine, 'original') ?? { recall: stats([]), ndcg: stats([]) },
        ...(augmented ? { augmented } : {}),
        baseline: options.baselines.includes(method), bestBaseline: false,
        epochs: stats(mine.map((r) => r.epochs)), seconds: stats(mine.map((r) => r.seconds)), stoppedBy, ...(labels ? { labels } : {}),
      };
    });
    const candidates = rows.filter((r) => r.baseline && Number.isFinite(r.original.recall.mean));
    const best = candidates.reduce<SummaryRow | undefined>((top, r) => (!top || r.original.recall.mean > top.original.recall.mean ? r : top), undefined);
    if (best) {
      best.bestBaseline = true;
      const base = methods.get(best.method)!;
      for (const row of rows) {
        if (row === best) continue;
        const mine = methods.get(row.method)!;
        row.vsBaseline = { original: compare(mine, base, best.method, 'original'), ...(row.augmented ? { augmented: compare(mine, base, best.method, 'augmented') } : {}) };
      }
    }
    // Equal compute: every method held to the samples the best baseline trained on up to its best epoch.
    const baseCells = best ? methods.get(best.method)! : [];
    const budget = baseCells.every((r) => r.samplesPerEpoch && r.bestEpoch) && baseCells.length
      ? mean(baseCells.map((r) => r.samplesPerEpoch! * r.bestEpoch!))
      : undefined;
    if (budget !== undefined) {
      for (const row of rows) {
        const within = methods.get(row.method)!.flatMap((r) => {
          if (!r.samplesPerEpoch) return [];
          const reached = r.history.filter((p) => p.split === 'valid' && p.epoch * r.samplesPerEpoch! <= budget).map((p) => p['recall@20']);
          return reached.length ? [Math.max(...reached)] : [];
        });
        if (within.length) row.equalCompute = stats(within);
      }
    }
    summary.groups.push({
      dataset: cells[0].dataset, model: cells[0].model, ...(best ? { bestBaseline: best.method } : {}),
      ...(budget !== undefined ? { equalComputeSamples: budget } : {}), rows,
      curves: [...methods].flatMap(([method, mine]) => curves(method, mine)),
    });
  }
  return summary;
}

const dash = '–';

export function formatMeanStd(s: MeanStd | undefined): string {
  if (!s || !Number.isFinite(s.mean)) return dash;
  return Number.isFinite(s.std) ? `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}` : s.mean.toFixed(4);
}

export function formatChange(c: Comparison | undefined): string {
  if (!c || !Number.isFinite(c.changePct)) return dash;
  return `${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)}%`;
}

export function formatP(c: Comparison | undefined): string {
  if (!c || Number.isNaN(c.p)) return dash;
  return c.p < 0.001 ? '<0.001' : c.p.toFixed(3);
}

/** Plot files of a group, as links relative to the Markdown file. */
export interface GroupPlots {
  dataset: string;
  model: string;
  valid: string;
  test: string;
}

/** One Markdown table per dataset x model, with the plots below it. */
export function summaryTables(summary: ExperimentSummary, plots: GroupPlots[] = []): string {
  const parts: string[] = [];
  for (const g of summary.groups) {
    parts.push(`### ${g.dataset} · ${g.model}`, '');
    parts.push(g.bestBaseline ? `Best baseline: **${g.bestBaseline}** (Δ and p below are against it).` : 'No baseline results: no Δ or p.', '');
    parts.push(
      '| method | sampler | labels | seeds | Recall@20 | NDCG@20 | Δ R@20 | p | Recall@20 (aug. mask) | NDCG@20 (aug. mask) | Δ R@20 (aug.) | p (aug.) | epochs | stopped by |',
      '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    );
    for (const r of g.rows) {
      const name = r.bestBaseline ? `**${r.method}** (best baseline)` : r.baseline ? `${r.method} (baseline)` : r.method;
      const labels = r.labels
        ? `${r.labeler}: ${r.labels.use}, held-out ${r.labels.heldOut}; ${Math.round(r.labels.positives)} pairs, ${Math.round(r.labels.heldOutPositives)} held-out`
        : r.labeler;
      const stopped = Object.entries(r.stoppedBy).map(([why, n]) => `${why} ${n}`).join(', ');
      parts.push(`| ${[
        name, r.sampler, labels, r.seeds.join(','), formatMeanStd(r.original.recall), formatMeanStd(r.original.ndcg),
        formatChange(r.vsBaseline?.original), formatP(r.vsBaseline?.original), formatMeanStd(r.augmented?.recall), formatMeanStd(r.augmented?.ndcg),
        formatChange(r.vsBaseline?.augmented), formatP(r.vsBaseline?.augmented), Number.isFinite(r.epochs.mean) ? r.epochs.mean.toFixed(0) : dash, stopped,
      ].join(' | ')} |`);
    }
    if (g.equalComputeSamples !== undefined) {
      parts.push('', `Equal compute: best validation Recall@20 within ${Math.round(g.equalComputeSamples).toLocaleString('en-US')} training samples (what ${g.bestBaseline} trained on up to its best epoch, mean over seeds), mean ± std over seeds:`, '',
        '| method | valid Recall@20 at equal compute |', '|---|---:|');
      for (const r of g.rows) parts.push(`| ${r.method} | ${formatMeanStd(r.equalCompute)} |`);
    }
    const p = plots.find((x) => x.dataset === g.dataset && x.model === g.model);
    if (p) parts.push('', `![validation Recall@20 per epoch, ${g.dataset} ${g.model}](${p.valid})`, `![test Recall@20 per method, ${g.dataset} ${g.model}](${p.test})`);
    parts.push('');
  }
  return parts.join('\n');
}

/** What the columns mean, for the head of summary.md and the report. */
export function summaryLegend(summary: ExperimentSummary): string {
  return [
    `Test metrics at K = ${K}: mean ± sample standard deviation over seeds. **Original mask**: each user's original training items are`,
    'removed from the ranking (this project\'s protocol). **Aug. mask**: the positives a labeler added are removed too (the DTL-NS',
    'release\'s protocol); shown only for methods that add positives. **Δ**: relative change of the mean test Recall@20 against the',
    `best baseline of the dataset x model (the highest mean test Recall@20 among ${summary.baselines.length ? summary.baselines.join(', ') : 'no methods'});`,
    '**p**: two-sided paired t-test over the seeds both share (Student, df = seeds - 1). The aug.-mask columns compare against the',
    'baseline\'s (original-mask) figure, as a paper reporting the released protocol would. **labels**: the labeler, how its labels are',
    'used (positive: trained as positives; exclude: never drawn as negatives; weighted), what happened to labels on held-out',
    'candidates (keep; impute: at the labeler\'s acceptance rate, seeded; drop), the mean labelled pairs over seeds, and how many of',
    'them are validation or test interactions of their user. **stopped by**: how each seed\'s training ended.',
  ].join('\n');
}

export function summaryMarkdown(summary: ExperimentSummary, plots: GroupPlots[] = []): string {
  return [
    `# Experiment ${summary.name}`, '',
    `${summary.cells.finished} of ${summary.cells.expected} cells finished.`, '',
    summaryLegend(summary), '',
    summaryTables(summary, plots),
  ].join('\n');
}

function csvField(v: string | number | undefined): string {
  if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line per dataset x model x method; empty fields where a figure does not apply. */
export function summaryCsv(summary: ExperimentSummary): string {
  const header = [
    'dataset', 'model', 'method', 'sampler', 'labeler', 'seeds', 'baseline', 'best_baseline',
    'recall20_mean', 'recall20_std', 'ndcg20_mean', 'ndcg20_std', 'change_pct', 'p_value',
    'recall20_aug_mean', 'recall20_aug_std', 'ndcg20_aug_mean', 'ndcg20_aug_std', 'change_pct_aug', 'p_value_aug',
    'epochs_mean', 'seconds_mean', 'label_use', 'held_out', 'label_pairs', 'label_pairs_held_out',
  ];
  const lines = [header.join(',')];
  for (const g of summary.groups) {
    for (const r of g.rows) {
      lines.push([
        g.dataset, g.model, r.method, r.sampler, r.labeler, r.seeds.length, r.baseline ? 1 : 0, r.bestBaseline ? 1 : 0,
        r.original.recall.mean, r.original.recall.std, r.original.ndcg.mean, r.original.ndcg.std, r.vsBaseline?.original.changePct, r.vsBaseline?.original.p,
        r.augmented?.recall.mean, r.augmented?.recall.std, r.augmented?.ndcg.mean, r.augmented?.ndcg.std, r.vsBaseline?.augmented?.changePct, r.vsBaseline?.augmented?.p,
        r.epochs.mean, r.seconds.mean, r.labels?.use, r.labels?.heldOut, r.labels?.positives, r.labels?.heldOutPositives,
      ].map(csvField).join(','));
    }
  }
  return lines.join('\n') + '\n';
}
