/**
 * bench/cli: the start-up cost of `kzr` commands, in one run: `node -e 0` (the floor any Node
 * program pays), `kzr --help`, `kzr score` and `kzr preprocess page --no-denoise`, each run
 * `--rounds` times in turn (so a burst of load from other work hits every command alike), with
 * the minimum and median wall time of each and the load average before and after.
 * Floors (issue 15): `kzr --help` within 0.5 s, that `kzr score` within 1.5 s; goal `kzr --help`
 * within 3x `node -e 0`.
 *
 *   npm run build && npx tsx bench/cli/run.ts [--rounds 7]
 *
 * kzr runs as its shebang and `npm run kzr` start it (`node --conditions=production
 * packages/cli/bin/kzr.js`), so from the compiled build; the bench stops if the build is not
 * current (kzr would fall back to tsx and say so on stderr).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({ options: { rounds: { type: 'string', default: '7' } } });
const rounds = Number(flags.rounds);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const shared = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const codhRow = join(shared, 'codh/100241706_00004_2.train-row.csv');
const samplePage = join(shared, 'pages/sample-page.jpg');
const kzr = ['--conditions=production', join(repo, 'packages/cli/bin/kzr.js')];

const dir = mkdtempSync(join(tmpdir(), 'kzr-bench-cli-'));
const cases: ReadonlyArray<{ name: string; args: readonly string[] }> = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'kzr --help', args: [...kzr, '--help'] },
  {
    name: 'kzr score (CODH row as truth and prediction)',
    args: [...kzr, 'score', '--truth', codhRow, '--pred', codhRow],
  },
  {
    name: 'kzr preprocess page --no-denoise (sample page)',
    args: [...kzr, 'preprocess', 'page', '--no-denoise', samplePage, join(dir, 'page.png')],
  },
];

/** Runs one case; its wall time in seconds. A failure or a tsx fallback stops the bench. */
function time(args: readonly string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 24 });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0 || run.stderr.includes('running the TypeScript sources with tsx')) {
    process.stderr.write(`bench/cli: node ${args.join(' ')} failed or ran from source:\n${run.stderr}`);
    process.stderr.write('bench/cli: run `npm run build` first\n');
    process.exit(1);
  }
  return seconds;
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();
const samples = cases.map(() => [] as number[]);
try {
  for (let round = 0; round < rounds; round++) {
    for (const [i, c] of cases.entries()) samples[i]!.push(time(c.args));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const summary = cases.map((c, i) => {
  const sorted = [...samples[i]!].sort((a, b) => a - b);
  return { name: c.name, minS: sorted[0]!, medianS: sorted[Math.floor(sorted.length / 2)]! };
});
const nodeS = summary[0]!.medianS;
console.log(`rounds ${rounds}; load average (1, 5, 15 min) before ${loadBefore}, after ${load()}`);
console.log('| command | min (s) | median (s) | median / node -e 0 |');
console.log('| --- | --- | --- | --- |');
for (const s of summary) {
  console.log(`| ${s.name} | ${s.minS.toFixed(3)} | ${s.medianS.toFixed(3)} | ${(s.medianS / nodeS).toFixed(1)} |`);
}
const help = summary[1]!;
const score = summary[2]!;
console.log(
  `floors: kzr --help ${help.medianS.toFixed(3)} s (<= 0.5: ${help.medianS <= 0.5 ? 'met' : 'MISSED'}), ` +
    `kzr score ${score.medianS.toFixed(3)} s (<= 1.5: ${score.medianS <= 1.5 ? 'met' : 'MISSED'}); ` +
    `goal kzr --help <= 3x node -e 0: ${(help.medianS / nodeS).toFixed(1)}x (${help.medianS <= 3 * nodeS ? 'met' : 'missed'})`,
);
