/** Where the `kzr` command and the repository are, from the source or the compiled module alike. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function cliRoot(): string {
  // src/runs/ and dist/src/runs/ sit at different depths; the package root is the folder with bin/kzr.js.
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'bin', 'kzr.js'))) return dir;
  }
  throw new Error('cannot find packages/cli/bin/kzr.js above this module');
}

/** `packages/cli/bin/kzr.js`: what a local phase Job runs. */
export const kzrBin = join(cliRoot(), 'bin', 'kzr.js');

/** The repository root (`configs/runs/` holds the presets). */
export const repoRoot = dirname(dirname(cliRoot()));
