import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

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
