/**
 * The Dockerfiles in images/: each passes dockerfile-utils' validation, every COPY/ADD source
 * from its build context exists (the repository root for the CPU and GPU images; the folder
 * images/build-cpu.sh fills for the base), the context leaves node_modules and builds out, and
 * the CPU image runs `node` as the non-root uid the chart names.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { validate } from 'dockerfile-utils';
import { parse } from 'yaml';

import { chartDir, repoRoot } from './helpers/helm.js';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** The instructions of a Dockerfile: comments dropped, continuation lines joined. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The sources a COPY or ADD takes from the build context (none for `--from`). */
function contextSources(instruction: Instruction): string[] {
  const tokens = instruction.args.split(/\s+/);
  if (tokens.some((t) => t.startsWith('--from='))) return [];
  return tokens.filter((t) => !t.startsWith('--')).slice(0, -1);
}

const images = join(repoRoot, 'images');

describe('the Dockerfiles', () => {
  for (const name of ['cpu.Dockerfile', 'gpu.Dockerfile', 'base-bookworm.Dockerfile']) {
    it(`${name} passes dockerfile-utils validation`, async () => {
      const text = await readFile(join(images, name), 'utf8');
      assert.deepEqual(
        validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`),
        [],
      );
    });
  }

  it('takes every COPY and ADD source of the CPU and GPU images from the repository', async () => {
    for (const name of ['cpu.Dockerfile', 'gpu.Dockerfile']) {
      const copies = instructions(await readFile(join(images, name), 'utf8')).filter((i) =>
        ['COPY', 'ADD'].includes(i.keyword),
      );
      assert.ok(copies.length > 0);
      for (const source of copies.flatMap(contextSources)) {
        assert.ok(existsSync(join(repoRoot, source)), `${name}: ${source} exists`);
      }
    }
  });

  it("takes the base image's sources from the context images/build-cpu.sh fills", async () => {
    const script = await readFile(join(images, 'build-cpu.sh'), 'utf8');
    const copies = instructions(await readFile(join(images, 'base-bookworm.Dockerfile'), 'utf8')).filter((i) =>
      ['COPY', 'ADD'].includes(i.keyword),
    );
    for (const source of copies.flatMap(contextSources)) {
      assert.match(script, new RegExp(`"\\$context/${source}"`), `build-cpu.sh puts ${source} in the context`);
    }
  });

  it('keeps node_modules, builds and generated code out of the build context', async () => {
    const ignored = (await readFile(join(repoRoot, '.dockerignore'), 'utf8')).split('\n');
    for (const pattern of ['**/node_modules', '**/dist', 'packages/api/src/generated', '.git']) {
      assert.ok(ignored.includes(pattern), pattern);
    }
  });

  it('builds the CPU image from a Node 20 bookworm slim base and runs node as uid 10001, as the chart expects', async () => {
    const cpu = instructions(await readFile(join(images, 'cpu.Dockerfile'), 'utf8'));
    assert.deepEqual(
      cpu.filter((i) => i.keyword === 'ARG' && i.args.startsWith('BASE=')).map((i) => i.args),
      ['BASE=node:20-bookworm-slim'],
    );
    assert.equal(cpu.filter((i) => i.keyword === 'FROM').length, 2, 'multi-stage');
    assert.equal(cpu.findLast((i) => i.keyword === 'USER')?.args, '10001:10001');
    assert.equal(cpu.findLast((i) => i.keyword === 'ENTRYPOINT')?.args, '["node"]');
    const values = parse(await readFile(join(chartDir, 'values.yaml'), 'utf8')) as {
      podSecurityContext: { runAsUser: number; runAsGroup: number };
    };
    assert.deepEqual([values.podSecurityContext.runAsUser, values.podSecurityContext.runAsGroup], [10001, 10001]);
  });
});
