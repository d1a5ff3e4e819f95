/**
 * `kzr data npz <file>`: lists the arrays of a NumPy npz archive (KMNIST, Kuzushiji-49) with
 * their dtype and shape, as `{"arrays": {"arr_0": {"dtype": "uint8", "shape": [100, 28, 28]}}}`.
 */
import { readFile } from 'node:fs/promises';

// The subpath: the package's index also loads the synthetic books' renderer (sharp).
import { defaultMaxNpzBytes, parseNpz } from '@kzr/data/npz';

import { intFlag, parseCommand, printJson, UsageError } from '../args.js';
import { usage } from './data-npz.usage.js';

/** Runs the command; a missing, unreadable or malformed file exits 2 naming the problem. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  const maxBytes = intFlag(values, 'max-bytes', defaultMaxNpzBytes, 1);
  if (positionals.length !== 1) throw new UsageError('<file.npz>', `expected one npz file, got ${positionals.length}`);
  const file = positionals[0]!;
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new UsageError('<file.npz>', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  // A malformed archive throws a DataFormatError (kind 'invalid'), which main maps to exit 2.
  const arrays = parseNpz(buf, file, { maxBytes, limitName: '--max-bytes' });
  const out: Record<string, { dtype: string; shape: number[] }> = {};
  for (const [name, array] of arrays) out[name] = { dtype: array.dtype, shape: [...array.shape] };
  printJson({ arrays: out });
  return 0;
}
