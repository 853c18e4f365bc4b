/**
 * SVG plots of an experiment, specified in Vega-Lite and rendered headless by Vega (no
 * browser, no canvas): per dataset x model, the validation Recall@20 per epoch (one line per
 * method, mean over seeds) and the test Recall@20 per method with ±std error bars.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../util/atomic.js';
import type { ExperimentSummary, GroupPlots, SummaryGroup } from './summary.js';

async function render(spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: every other command of the CLI starts without them.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Validation Recall@20 against the epoch, one line per method (mean over the seeds that reached the epoch). */
export function validationCurveSpec(group: SummaryGroup): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${group.dataset} · ${group.model}: validation Recall@20`, subtitle: 'mean over seeds' },
    width: 520,
    height: 300,
    data: { values: group.curves.map((c) => ({ method: c.method, epoch: c.epoch, recall: c.recall })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'recall', type: 'quantitative', title: 'validation Recall@20', scale: { zero: false } },
      color: { field: 'method', type: 'nominal', title: 'method', sort: group.rows.map((r) => r.method) },
    },
  };
}

/** Test Recall@20 per method as bars with ±1 sample std, under the original mask and, where a method adds positives, the augmented one. */
export function testBarSpec(group: SummaryGroup): TopLevelSpec {
  const values = group.rows.flatMap((r) =>
    (['original', 'augmented'] as const).flatMap((mask) => {
      const s = mask === 'original' ? r.original.recall : r.augmented?.recall;
      if (!s || !Number.isFinite(s.mean)) return [];
      const std = Number.isFinite(s.std) ? s.std : 0;
      return [{ method: r.method, mask: `${mask} mask`, mean: s.mean, low: s.mean - std, high: s.mean + std }];
    }));
  const methods = group.rows.map((r) => r.method);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${group.dataset} · ${group.model}: test Recall@20`, subtitle: 'mean ± sample std over seeds' },
    width: { step: 36 },
    height: 300,
    data: { values },
    encoding: {
      x: { field: 'method', type: 'nominal', sort: methods, title: null, axis: { labelAngle: -30 } },
      xOffset: { field: 'mask', type: 'nominal', sort: ['original mask', 'augmented mask'] },
    },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: 'test Recall@20' },
          color: { field: 'mask', type: 'nominal', title: 'evaluation', sort: ['original mask', 'augmented mask'] },
        },
      },
      {
        mark: { type: 'errorbar', ticks: true },
        encoding: { y: { field: 'low', type: 'quantitative', title: 'test Recall@20' }, y2: { field: 'high' }, color: { value: 'black' } },
      },
    ],
  };
}

export async function validationCurveSvg(group: SummaryGroup): Promise<string> {
  return render(validationCurveSpec(group));
}

export async function testBarSvg(group: SummaryGroup): Promise<string> {
  return render(testBarSpec(group));
}

/** Writes both plots of every group into `dir`; returns the file names (relative to `dir`). */
export async function writePlots(summary: ExperimentSummary, dir: string): Promise<GroupPlots[]> {
  const written: GroupPlots[] = [];
  for (const group of summary.groups) {
    const base = `${group.dataset}-${group.model}`;
    const files = { dataset: group.dataset, model: group.model, valid: `${base}-valid-recall.svg`, test: `${base}-test-recall.svg` };
    writeFileAtomic(join(dir, files.valid), await validationCurveSvg(group));
    writeFileAtomic(join(dir, files.test), await testBarSvg(group));
    written.push(files);
  }
  return written;
}
