import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const kzr = fileURLToPath(new URL('../bin/kzr.js', import.meta.url));

async function kzrRun(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [kzr, ...args], { cwd: repoRoot, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('kzr gbdt predict', () => {
  it('reproduces expected.csv of the LightGBM fixture within 1e-12, one probability per line', async () => {
    const { code, stdout } = await kzrRun([
      'gbdt',
      'predict',
      '--model',
      '../shared/data/lightgbm/model.txt',
      '--csv',
      '../shared/data/lightgbm/features.csv',
    ]);
    assert.equal(code, 0);
    const expectedText = await readFile(
      new URL('../../../../shared/data/lightgbm/expected.csv', import.meta.url),
      'utf8',
    );
    const expected = expectedText.trim().split('\n').slice(1).map(Number);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, expected.length);
    for (let i = 0; i < lines.length; i++) {
      const value = Number(lines[i]);
      assert.equal(String(value), lines[i], 'shortest round-trip form');
      assert.ok(Math.abs(value - expected[i]!) <= 1e-12, `row ${i}: ${value} vs ${expected[i]}`);
    }
  });

  it('exits 2 naming the flag when the model file is missing', async () => {
    const { code, stderr } = await kzrRun(['gbdt', 'predict', '--model', 'no-such-model.txt', '--csv', 'x.csv']);
    assert.equal(code, 2);
    assert.match(stderr, /--model/);
  });
});
