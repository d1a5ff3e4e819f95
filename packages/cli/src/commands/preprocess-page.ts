/**
 * `kzr preprocess page <in> <out.png> [--no-ben] [--no-denoise] [--threads <n>]`: Ben's filter
 * and the colour NL-means denoising of spec §2.1 (OpenCV parity), written as a true-colour
 * 8-bit RGB PNG of the page's size. Prints `{out, width, height, seconds}`.
 */
import { readFile } from 'node:fs/promises';

import { decodeImage, encodePng, preprocessPage } from '@kzr/imaging';

import { intFlag, parseCommand, printJson, UsageError } from '../args.js';
import { checkOutputPath, writeOutput } from './output.js';
import { usage } from './preprocess-page.usage.js';

/** Runs the command; an unreadable, corrupt or unsupported input exits 2 and writes nothing. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  if (positionals.length !== 2) throw new UsageError('<in> <out.png>', `expected 2 paths, got ${positionals.length}`);
  const [input, output] = positionals as [string, string];
  if (!output.toLowerCase().endsWith('.png')) throw new UsageError('<out.png>', 'the output must be a .png file');
  const threads = values['threads'] === undefined ? undefined : intFlag(values, 'threads', 1, 1, 1024);
  await checkOutputPath(output, '<out.png>');
  let bytes: Buffer;
  try {
    bytes = await readFile(input);
  } catch (err) {
    throw new UsageError('<in>', `cannot read ${input}: ${(err as Error).message}`);
  }
  const started = performance.now();
  const page = await decodeImage(bytes, { field: '<in>' });
  const out = await preprocessPage(page, {
    ben: values['no-ben'] !== true,
    denoise: values['no-denoise'] !== true,
    threads,
  });
  const png = await encodePng(out);
  await writeOutput(output, png, '<out.png>');
  printJson({
    out: output,
    width: out.width,
    height: out.height,
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  });
  return 0;
}
