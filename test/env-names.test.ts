/**
 * The lists of known `KZR_*` variables (platform's, and each service's own) hold every name the
 * code reads, so a service's start-up warning about unknown variables never names one it uses,
 * and a service lists no name it does not read.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { inferenceEnvNames } from '@kzr/inference';
import { platformEnvNames } from '@kzr/platform';
import { postprocessEnvNames } from '@kzr/postprocess';
import { preprocessEnvNames } from '@kzr/preprocess';
import { trainerEnvNames } from '@kzr/trainer';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every `'KZR_…'` string literal (what config code reads; comments use backticks) in the `.ts` files under `dir`. */
async function namesReadIn(dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const entry of await readdir(join(root, dir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = await readFile(join(entry.parentPath, entry.name), 'utf8');
    for (const match of text.matchAll(/'(KZR_[A-Z0-9_]+)'/g)) names.add(match[1]!);
  }
  return names;
}

describe('known KZR_ variables', () => {
  it('platform lists every KZR_ variable its code reads', async () => {
    const missing = [...(await namesReadIn('packages/platform/src'))].filter((n) => !platformEnvNames.includes(n));
    assert.deepEqual(missing, []);
  });

  // Each service with the libraries whose variables it reads on its behalf.
  const services = [
    { name: 'preprocess', own: preprocessEnvNames, dirs: ['services/preprocess/src'] },
    { name: 'inference', own: inferenceEnvNames, dirs: ['services/inference/src', 'packages/ml/src'] },
    { name: 'postprocess', own: postprocessEnvNames, dirs: ['services/postprocess/src'] },
    { name: 'trainer', own: trainerEnvNames, dirs: ['services/trainer/src'] },
  ];
  for (const service of services) {
    it(`${service.name} lists exactly the KZR_ variables it reads beyond the platform's`, async () => {
      const read = new Set<string>();
      for (const dir of service.dirs) for (const name of await namesReadIn(dir)) read.add(name);
      const expected = [...read].filter((n) => !platformEnvNames.includes(n)).sort();
      assert.deepEqual([...service.own].sort(), expected);
    });
  }
});
