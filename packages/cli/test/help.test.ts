import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { KzrError } from '@kzr/core';

import { formatHelp, parseCommand } from '../src/args.js';
import { commands, loadCommand, loadUsage } from '../src/registry.js';
import { repoRoot, runKzr } from './kzr-cli.js';

/** The `--flag` names the help text lists under `options:`. */
function listedFlags(help: string): string[] {
  const options = help.split('\noptions:\n')[1]?.split('\n\n')[0] ?? '';
  return options
    .split('\n')
    .filter((line) => line.startsWith('  --'))
    .map((line) => line.slice(4).split(/[ ]/, 1)[0]!);
}

/** The flags a command's own parser accepts, read from its unknown-option error. */
async function acceptedFlags(name: string): Promise<string[]> {
  const command = await loadCommand(name);
  const err = await command.run(['--zzzzzzzzzzzzzzzzzzzz']).then(
    () => assert.fail(`${name} accepted an unknown flag`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof KzrError, `${name}: ${String(err)}`);
  if (err.message.includes('takes no options')) return [];
  const known = /known options: (.*)$/.exec(err.message);
  assert.ok(known, `${name}: ${err.message}`);
  return known[1]!.split(', ').map((flag) => flag.slice(2));
}

// Examples cheap enough to run here: their inputs are in the repository or ../shared/data.
const runnable = new Set(['score', 'order', 'data books', 'data npz', 'preprocess page', 'model summary']);

describe('kzr help', () => {
  for (const name of Object.keys(commands)) {
    it(`${name}: --help lists exactly the flags its parser accepts, and its example parses`, async () => {
      const usage = await loadUsage(name);
      const help = formatHelp(name, commands[name]!, usage);
      assert.deepEqual(listedFlags(help).sort(), (await acceptedFlags(name)).sort());
      for (const [flag, f] of Object.entries(usage.flags)) {
        const line = help.split('\n').find((l) => l.startsWith(`  --${flag} `))!;
        assert.ok(f.description !== '' && line.includes(f.description), `${name} --${flag} has its description`);
        if (f.type === 'string')
          assert.match(line, /\((repeatable; )?(default: |required)/, `${name} --${flag}: default`);
      }
      assert.ok(help.includes(`example:\n  kzr ${name} ${usage.example}`.trimEnd()));
      const example = usage.example.split(' ').filter(Boolean);
      parseCommand(usage, example);
      if (usage.positionals === undefined) assert.equal(parseCommand(usage, example).positionals.length, 0);
    });
  }

  it('runs the examples whose inputs are here', async () => {
    for (const name of runnable) {
      const usage = await loadUsage(name);
      for (const arg of usage.example.split(' ')) {
        if (arg.startsWith('../') || arg.startsWith('configs/')) assert.ok(existsSync(join(repoRoot, arg)), arg);
      }
      const res = await runKzr([...name.split(' '), ...usage.example.split(' ')]);
      // The outputs examples write (preprocess page's PNG) go under /tmp.
      await Promise.all(
        usage.example
          .split(' ')
          .filter((arg) => arg.startsWith('/tmp/'))
          .map((arg) => rm(arg, { force: true })),
      );
      assert.equal(res.code, 0, `${name}: ${res.stderr}`);
      JSON.parse(res.stdout.split('\n')[0]!);
    }
  });

  it('answers `kzr <command> --help` and `kzr help <command>` with the same text, and names the nearest flag', async () => {
    const [flag, help] = await Promise.all([runKzr(['gbdt', 'train', '--help']), runKzr(['help', 'gbdt', 'train'])]);
    assert.equal(flag.code, 0);
    assert.equal(flag.stdout, help.stdout);
    assert.match(flag.stdout, /^usage: kzr gbdt train \[options\]\n/);
    assert.match(flag.stdout, /--valid <valid\.csv> .*validLoss/);
    const typo = await runKzr(['score', '--truht', 'a.csv']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^kzr: --truht: unknown option; did you mean --truth\?\n$/m);
  });

  it('names every command in the README', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const missing = Object.keys(commands).filter((name) => !readme.includes(`\`kzr ${name}`));
    assert.deepEqual(missing, []);
  });
});
