import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const kzrBin = fileURLToPath(new URL('../bin/kzr.js', import.meta.url));

function kzr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [kzrBin, ...args], { cwd: repoRoot }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('kzr data npz', () => {
  it('prints each array of a real K49 npz with its dtype and shape', async () => {
    const { code, stdout } = await kzr('data', 'npz', '../shared/data/k49/test_images_10.npz');
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), { arrays: { arr_0: { dtype: 'uint8', shape: [10, 28, 28] } } });
  });

  it('exits 2 naming the problem for a missing file, a file that is not npz, and no argument', async () => {
    const missing = await kzr('data', 'npz', 'no/such/file.npz');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read no\/such\/file\.npz: ENOENT/);
    const notZip = await kzr('data', 'npz', 'package.json');
    assert.equal(notZip.code, 2);
    assert.match(notZip.stderr, /package\.json: zip\.endOfCentralDirectory/);
    const none = await kzr('data', 'npz');
    assert.equal(none.code, 2);
    assert.equal(none.stdout, '');
  });
});
