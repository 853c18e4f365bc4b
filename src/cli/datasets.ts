/** `dtlns-native datasets`: statistics of data folders, files or synthetic presets. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadDataset } from '../data/load.js';
import { datasetStats, type DatasetStats } from '../data/stats.js';
import { packageRoot } from '../native.js';
import { formatNumber } from './progress.js';

interface DatasetsArgs {
  sources: string[];
  json: boolean;
}

/** The shared datasets folder beside a checkout (../shared/datasets), when present. */
function sharedDatasetsDir(): string | undefined {
  const dir = resolve(packageRoot, '..', 'shared', 'datasets');
  return existsSync(dir) ? dir : undefined;
}

export const datasetsCommand: CommandModule<object, DatasetsArgs> = {
  command: 'datasets [sources..]',
  describe: 'Statistics of data folders or files (default: every folder of ../shared/datasets, else the synthetic presets)',
  builder: (y: Argv) =>
    y
      .positional('sources', { type: 'string', array: true, default: [], describe: 'Folders, files or synthetic[:preset]' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object on stdout' }) as unknown as Argv<DatasetsArgs>,
  handler: async (args: ArgumentsCamelCase<DatasetsArgs>) => {
    let sources = args.sources;
    if (sources.length === 0) {
      const shared = sharedDatasetsDir();
      sources = shared
        ? readdirSync(shared).map((name) => join(shared, name)).filter((p) => statSync(p).isDirectory() && existsSync(join(p, 'stats.json')))
        : ['synthetic:tiny', 'synthetic:small', 'synthetic:medium'];
    }
    const all: DatasetStats[] = [];
    for (const source of sources) {
      const stats = datasetStats(await loadDataset(source));
      all.push(stats);
      if (!args.json) process.stdout.write(formatStats(source, stats));
    }
    if (args.json) process.stdout.write(JSON.stringify({ datasets: all }) + '\n');
  },
};

function formatStats(source: string, s: DatasetStats): string {
  const q = (c: DatasetStats['trainItemsPerUser']) => `min ${c.min}, median ${c.median}, p90 ${c.p90}, max ${c.max}, mean ${c.mean.toFixed(1)}`;
  const lines = [
    `${source}`,
    `  users ${formatNumber(s.nUsers)}, items ${formatNumber(s.nItems)}, density ${s.density.toExponential(3)}`,
    `  interactions: train ${formatNumber(s.nTrain)}, valid ${formatNumber(s.nValid)}, test ${formatNumber(s.nTest)}`,
    `  users with valid ${formatNumber(s.usersWithValid)}, with test ${formatNumber(s.usersWithTest)}; items only in valid/test ${formatNumber(s.itemsOnlyInValidOrTest)}, without interactions ${formatNumber(s.itemsWithoutInteractions)}`,
    `  train items per user: ${q(s.trainItemsPerUser)}`,
    `  train users per item: ${q(s.trainUsersPerItem)}`,
  ];
  if (s.nHidden !== undefined) lines.push(`  hidden positives (planted false negatives): ${formatNumber(s.nHidden)}`);
  for (const r of s.reports) {
    if (r.duplicatesDropped || r.belowMinRating) lines.push(`  ${r.file}: ${r.duplicatesDropped} duplicate pairs dropped, ${r.belowMinRating} below --min-rating`);
  }
  return lines.join('\n') + '\n';
}
