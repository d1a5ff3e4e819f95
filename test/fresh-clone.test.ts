import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

describe('a fresh clone', () => {
  it('runs `npm run --silent kzr -- --help` with nothing but the install before it', async (t) => {
    // Inside the checkout (.kzr/ is ignored), so node_modules can be hard-linked: the same
    // filesystem. The hard-linked copy of this checkout's node_modules stands in for `npm ci`
    // of the same package-lock.json (minutes, and the network); the clone has no dist/ and no
    // generated protos, as after a real clone.
    await mkdir(join(repoRoot, '.kzr'), { recursive: true });
    const dir = await mkdtemp(join(repoRoot, '.kzr', 'fresh-clone-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const clone = join(dir, 'kzr');
    await run('git', ['clone', '--quiet', repoRoot, clone]);
    await run('cp', ['-al', join(repoRoot, 'node_modules'), join(clone, 'node_modules')]);
    assert.ok(!existsSync(join(clone, 'packages/api/src/generated')));

    const { stdout, stderr } = await run('npm', ['run', '--silent', 'kzr', '--', '--help'], { cwd: clone });
    assert.match(stdout, /^usage: kzr <command> \[options\]\n/);
    assert.match(stdout, /\n {2}score {2,}Kaggle F1/);
    assert.equal(
      stderr,
      'kzr: no build yet; running the TypeScript sources with tsx (`npm run build` starts faster)\n',
    );
    assert.ok(existsSync(join(clone, 'packages/api/src/generated/kzr/v1/events.ts')), 'protos generated');
  });
});
