/**
 * Where the repository is, from the source or the compiled module alike: the run presets
 * (`configs/runs/`) and the `kzr` command a local phase Job runs (`packages/cli/bin/kzr.js`).
 * A container image holds the repository at the same layout.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  // src/ and dist/src/ sit at different depths; the root is the folder with configs/runs/.
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'configs', 'runs'))) return dir;
  }
  throw new Error('cannot find configs/runs/ above this module');
}

/** The repository root (`configs/runs/` holds the presets). */
export const repoRoot = findRepoRoot();

/** `packages/cli/bin/kzr.js`: what a phase Job runs (`kzr phase run ...`). */
export const kzrBin = join(repoRoot, 'packages', 'cli', 'bin', 'kzr.js');
