/** The package index: the catalogues are public, the plain-TS references of the kernels are not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../src/index.js';

test('the public index exports no plain-TS reference and exports both catalogues', () => {
  const references = Object.keys(api).filter((name) => /reference/i.test(name));
  assert.deepEqual(references, [], `test references exported from src/index.ts: ${references.join(', ')}`);
  assert.deepEqual(Object.keys(api.samplerCatalogue), [...api.samplerNames]);
  assert.deepEqual(Object.keys(api.labelerCatalogue), [...api.labelerKinds]);
  assert.deepEqual(api.experimentLabelers, api.labelerKinds);
  for (const kind of ['llama', 'openai'] as const) assert.ok(api.experimentLabelers.includes(kind), `the grid lacks the ${kind} labeler`);
});
