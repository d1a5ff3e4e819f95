import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { storeContract } from './contracts/store-contract.js';

import { FsStore } from '@kzr/platform';

const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

storeContract('filesystem', {
  open: async () => {
    const root = await mkdtemp(join(tmpdir(), 'kzr-fs-store-'));
    roots.push(root);
    return FsStore.open({ root });
  },
  corrupt: async (store, key, bytes) => {
    await writeFile((store as FsStore).pathOf(key), bytes);
  },
  leftovers: async () => {
    const root = roots.at(-1)!;
    return readdir(join(root, '.kzr-tmp'));
  },
});

describe('filesystem store layout', () => {
  it('reads sidecars of stores written before the move (a and a/b are refused as the contract says)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kzr-fs-store-'));
    roots.push(root);
    const store = await FsStore.open({ root });
    // An object stored with its sidecar at the old place, .kzr-meta/<key>.json.
    await mkdir(join(root, 'objects', 'old'), { recursive: true });
    await writeFile(join(root, 'objects', 'old', 'o'), 'old');
    await mkdir(join(root, '.kzr-meta', 'old'), { recursive: true });
    const sidecar = { sha256: 'f'.repeat(64), size: 3, contentType: 'text/plain', metadata: { v: '1' } };
    await writeFile(join(root, '.kzr-meta', 'old', 'o.json'), JSON.stringify(sidecar));
    const info = await store.stat('old/o');
    assert.deepEqual([info.sha256, info.contentType, info.metadata], [sidecar.sha256, 'text/plain', { v: '1' }]);
    await store.delete('old/o');
    assert.deepEqual(await readdir(join(root, '.kzr-meta', 'old')), []);
  });
});
