/**
 * bench/fuzz: every parser of outside input under 10,000 fast-check cases each (random and
 * mutated samples, `test/helpers/parser-fuzz.ts`), in one run, with a table of cases, accepted
 * inputs, clear errors, crashes (anything but a clear kzr error), hangs (a case over 1 s), peak
 * memory and leftovers (files the parser left in the temp folder). Exits 1 on any crash, hang or
 * leftover, printing the first counterexamples to keep as regression cases.
 *
 *   node --expose-gc --import tsx bench/fuzz/run.ts [--cases 10000] [--seed 22] [--only <parser name>]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import fc from 'fast-check';

import { fuzzedParsers, runCase, type Outcome } from '../../test/helpers/parser-fuzz.js';

const { values: flags } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '22' },
    only: { type: 'string' },
  },
});
const cases = Number(flags.cases);
const seed = Number(flags.seed);
// A temp folder of this run alone (others on the machine write to /tmp too): what appears in it
// during a parser's cases is that parser's leftovers.
const privateTmp = mkdtempSync(join(tmpdir(), 'kzr-fuzz-'));
process.env['TMPDIR'] = privateTmp;

interface Row {
  parser: string;
  cases: number;
  accepted: number;
  clear: number;
  crashes: number;
  hangs: number;
  slowestMs: number;
  peakHeapMb: number;
  leftovers: number;
  seconds: number;
}

const rows: Row[] = [];
const failures: string[] = [];
const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);

for (const parser of fuzzedParsers()) {
  if (flags.only !== undefined && parser.name !== flags.only) continue;
  const before = new Set(readdirSync(tmpdir()));
  const counts: Record<Outcome, number> = { accepted: 0, 'clear-error': 0, crash: 0, hang: 0 };
  let slowestMs = 0;
  global.gc?.();
  const baseHeap = process.memoryUsage().heapUsed;
  let peakHeap = baseHeap;
  const t0 = performance.now();
  const inputs = fc.sample(parser.inputs, { numRuns: cases, seed });
  inputs.forEach((input, i) => {
    const { outcome, ms, error } = runCase(parser, input);
    counts[outcome]++;
    slowestMs = Math.max(slowestMs, ms);
    if ((outcome === 'crash' || outcome === 'hang') && failures.length < 20) {
      const shown = Buffer.isBuffer(input) ? `bytes ${input.toString('base64')}` : JSON.stringify(input);
      failures.push(
        `${parser.name} #${i} (seed ${seed}) ${outcome}: ${String(error)}\n  input: ${shown?.slice(0, 300)}`,
      );
    }
    if (i % 200 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  });
  const leftovers = readdirSync(tmpdir()).filter((name) => !before.has(name)).length;
  rows.push({
    parser: parser.name,
    cases: inputs.length,
    accepted: counts.accepted,
    clear: counts['clear-error'],
    crashes: counts.crash,
    hangs: counts.hang,
    slowestMs: Math.round(slowestMs),
    peakHeapMb: mb(peakHeap - baseHeap),
    leftovers,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  });
}

const header =
  '| parser | cases | accepted | clear errors | crashes | hangs | slowest case (ms) | peak heap growth (MB) | leftovers | s |';
console.log(header);
console.log(`|${' --- |'.repeat(10)}`);
for (const r of rows) {
  console.log(
    `| ${r.parser} | ${r.cases} | ${r.accepted} | ${r.clear} | ${r.crashes} | ${r.hangs} | ${r.slowestMs} | ${r.peakHeapMb} | ${r.leftovers} | ${r.seconds} |`,
  );
}
console.log(`\npeak RSS of the run: ${mb(process.memoryUsage().rss)} MB; node ${process.version}`);
if (failures.length > 0) {
  console.log(`\nfailures (keep as regression cases in test/parsers-fuzz.test.ts):\n${failures.join('\n')}`);
}
rmSync(privateTmp, { recursive: true, force: true });
process.exitCode = rows.some((r) => r.crashes + r.hangs + r.leftovers > 0) ? 1 : 0;
