import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { runKzr } from './kzr-cli.js';

describe('kzr data npz', () => {
  it('prints each array of a real K49 npz with its dtype and shape', async () => {
    const { code, stdout } = await runKzr(['data', 'npz', '../shared/data/k49/test_images_10.npz']);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), { arrays: { arr_0: { dtype: 'uint8', shape: [10, 28, 28] } } });
  });

  it('exits 2 naming the problem for a missing file, a file that is not npz, and no argument', async () => {
    const missing = await runKzr(['data', 'npz', 'no/such/file.npz']);
    assert.equal(missing.code, 2);
    // The argument is named as the usage line of `kzr data npz --help` names it.
    assert.match(missing.stderr, /^kzr: <file\.npz>: cannot read no\/such\/file\.npz: ENOENT$/m);
    assert.match((await runKzr(['data', 'npz', '--help'])).stdout, /^usage: kzr data npz \[options\] <file\.npz>\n/);
    const notZip = await runKzr(['data', 'npz', 'package.json']);
    assert.equal(notZip.code, 2);
    assert.match(notZip.stderr, /package\.json: zip\.endOfCentralDirectory/);
    const none = await runKzr(['data', 'npz']);
    assert.equal(none.code, 2);
    assert.equal(none.stdout, '');
  });
});
