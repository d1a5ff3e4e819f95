/**
 * DESIGN.md "Layers" and "Artifacts" as lint: ESLint, with the repository's own config, rejects an
 * upward import, an import of one service by another, and a Store key literal outside
 * `@kzr/artifacts`, and accepts a downward import. Each probe is linted as text under a path in
 * its package's `src/` (nothing is written there: the CLI's build check watches those folders),
 * with type information off and only the two rules under test on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { ESLint } from 'eslint';

const root = join(import.meta.dirname, '..');

/** Sources to lint, each as if it were a file in `<folder>/src/`. */
const probes = {
  upward: { folder: 'packages/core', source: "export { ConfigError } from '@kzr/platform';\n" },
  pureUpward: { folder: 'packages/pipeline', source: "export { FsStore } from '@kzr/platform';\n" },
  sideways: { folder: 'services/preprocess', source: "export { createInference } from '@kzr/inference';\n" },
  keyLiterals: {
    folder: 'services/postprocess',
    source:
      "export const filterKey = 'filters/v1/model.txt';\n" +
      'export const manifestKey = (set: string): string => `models/${set}/v1/manifest.json`;\n',
  },
  downward: { folder: 'services/postprocess', source: "export { iou } from '@kzr/core';\n" },
} as const;

const paths = Object.fromEntries(
  Object.entries(probes).map(([name, { folder }]) => [
    name,
    join(root, folder, 'src', `lint-probe-${process.pid}-${name}.ts`),
  ]),
) as Record<keyof typeof probes, string>;
/** `ruleId: message` per probe. */
const messages = {} as Record<keyof typeof probes, string[]>;

describe('lint enforces the layers and the owner of Store keys', () => {
  before(async () => {
    const eslint = new ESLint({
      cwd: root,
      overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
      ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports' || ruleId === 'no-restricted-syntax',
    });
    for (const name of Object.keys(probes) as (keyof typeof probes)[]) {
      const [result] = await eslint.lintText(probes[name].source, { filePath: paths[name] });
      assert.ok(result, `no lint result for ${name}`);
      messages[name] = result.messages.map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
    }
  });

  it('fails core importing platform (an upward import)', () => {
    assert.ok(
      messages.upward.some((m) => m.includes('packages/core may not import this layer')),
      messages.upward.join('\n'),
    );
  });

  it('fails the pure pipeline package importing platform (it sits on core only)', () => {
    assert.ok(
      messages.pureUpward.some((m) => m.includes('packages/pipeline may not import this layer')),
      messages.pureUpward.join('\n'),
    );
  });

  it('fails one service importing another', () => {
    assert.ok(
      messages.sideways.some((m) => m.includes('services/preprocess may not import this layer')),
      messages.sideways.join('\n'),
    );
  });

  it('fails a Store key literal in a service, plain or in a template', () => {
    const keyLiterals = messages.keyLiterals.filter((m) => m.includes('Build Store keys with @kzr/artifacts'));
    assert.equal(keyLiterals.length, 2, messages.keyLiterals.join('\n'));
  });

  it('passes a service importing a package below it', () => {
    assert.deepEqual(messages.downward, []);
  });
});
