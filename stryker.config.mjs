/**
 * Mutation testing (`npm run mutate`, not part of CI): StrykerJS mutates the TypeScript sources,
 * compiles the instrumented tree once with tsc (buildCommand), then runs the compiled node:test
 * files with the TAP runner, only those that cover each mutant. MUTATE picks the folders
 * (default all four), e.g. `MUTATE=eval,sampling npm run mutate`.
 */
const areas = {
  eval: { mutate: ['src/eval/**/*.ts'], tests: ['contract', 'known', 'topk'].map((name) => `dist/test/eval.${name}.test.js`) },
  // Fast files first: a killed mutant stops at its first failing file.
  sampling: {
    mutate: ['src/sampling/**/*.ts'],
    tests: ['reference', 'epochdraws', 'epoch', 'positives', 'badinput', 'mine', 'step', 'train'].map((name) => `dist/test/sampling.${name}.test.js`),
  },
  train: {
    mutate: ['src/train/**/*.ts'],
    tests: ['known', 'best', 'budget', 'badinput', 'step', 'adam', 'epoch', 'worker'].map((name) => `dist/test/train.${name}.test.js`),
  },
  labels: {
    mutate: ['src/labels/**/*.ts'],
    tests: ['gguf', 'gguf.exact', 'heldout', 'evidence', 'usecases', 'fingerprint', 'openai.bounds', 'openai.exact', 'import', 'catalogue', 'candidates', 'store', 'rule', 'gguf-writer.exact', 'gguf-writer.big', 'gguf-writer', 'gguf.types', 'openai', 'llama.exact', 'llama', 'use', 'device', 'cli'].map(
      (name) => `dist/test/labels.${name}.test.js`,
    ),
  },
};
const chosen = (process.env.MUTATE ?? Object.keys(areas).join(',')).split(',');
for (const name of chosen) {
  if (!(name in areas)) throw new RangeError(`Expected MUTATE to list folders among ${Object.keys(areas).join(', ')} but received ${name}`);
}

export default {
  packageManager: 'npm',
  mutate: chosen.flatMap((name) => areas[name].mutate),
  testRunner: 'tap',
  tap: {
    // MUTATE_TESTS=a,b narrows the files to dist/test/a.test.js, dist/test/b.test.js (e.g. for one source file).
    testFiles: process.env.MUTATE_TESTS
      ? process.env.MUTATE_TESTS.split(',').map((name) => `dist/test/${name}.test.js`)
      : chosen.flatMap((name) => areas[name].tests),
    nodeArgs: ['--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
  },
  buildCommand: 'tsc -p tsconfig.json',
  // Stryker rewrites a sandboxed tsconfig's extends/references through the typescript JS API,
  // which tsc 7 no longer has; ours has neither, so point the rewrite at no file.
  tsconfigFile: 'tsconfig.stryker-none.json',
  coverageAnalysis: 'perTest',
  // Two shared cores: one test process at a time beside the Stryker process.
  concurrency: 1,
  timeoutMS: 20000,
  ignorePatterns: ['runs', 'reports', 'experiments', 'docs', '.stryker-tmp'],
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: `reports/mutation/${chosen.join('-')}.json` },
  // `-- --incremental` reuses this file's results for unchanged mutants and tests.
  incrementalFile: `reports/mutation/${chosen.join('-')}.incremental.json`,
  thresholds: { high: 90, low: 85, break: null },
};
