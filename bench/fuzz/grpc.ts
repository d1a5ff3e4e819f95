/**
 * bench/fuzz, gRPC part: every method of the preprocess and postprocess services under 1,000
 * cases each (`test/helpers/grpc-fuzz.ts`: sample requests with fields replaced by any value, and
 * random bytes), on real servers in this process, one call at a time. Prints a table of cases,
 * successes, clear errors, crashes (INTERNAL, UNKNOWN or no details), hangs (a call past 10 s),
 * the slowest call, the slowest health check between cases, and peak RSS; exits 1 on any crash
 * or hang.
 *
 *   node --import tsx bench/fuzz/grpc.ts [--cases 1000] [--seed 22]
 */
import { parseArgs } from 'node:util';

import { openHealthClient } from '@kzr/testkit';
import fc from 'fast-check';

import { type CallOutcome, startGrpcFuzzTarget } from '../../test/helpers/grpc-fuzz.js';

const { values: flags } = parseArgs({
  options: { cases: { type: 'string', default: '1000' }, seed: { type: 'string', default: '22' } },
});
const cases = Number(flags.cases);
const seed = Number(flags.seed);
const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);

const target = await startGrpcFuzzTarget();
const health = [openHealthClient(target.endpoints.preprocess), openHealthClient(target.endpoints.postprocess)];
const failures: string[] = [];
const lines: string[] = [];
let peakRss = process.memoryUsage().rss;
for (const method of target.methods) {
  const counts: Record<CallOutcome, number> = { ok: 0, 'clear-error': 0, crash: 0, hang: 0 };
  let slowestMs = 0;
  let slowestHealthMs = 0;
  const t0 = performance.now();
  const requests = fc.sample(method.requests, { numRuns: cases, seed });
  for (const [i, request] of requests.entries()) {
    const c0 = performance.now();
    const { outcome, code, details } = await target.call(method, request);
    slowestMs = Math.max(slowestMs, performance.now() - c0);
    counts[outcome]++;
    if ((outcome === 'crash' || outcome === 'hang') && failures.length < 20) {
      failures.push(
        `${method.name} #${i} (seed ${seed}) ${outcome} ${code}: ${details}\n  request: ${request.toString('base64')}`,
      );
    }
    if (i % 50 === 0) {
      for (const h of health) {
        const h0 = performance.now();
        await h.check('', 2000);
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - h0);
      }
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  }
  lines.push(
    `| ${method.name} | ${requests.length} | ${counts.ok} | ${counts['clear-error']} | ${counts.crash} | ${counts.hang} | ${Math.round(slowestMs)} | ${Math.round(slowestHealthMs)} | ${((performance.now() - t0) / 1000).toFixed(1)} |`,
  );
}
for (const h of health) h.close();
await target.close();

console.log('| method | cases | ok | clear errors | crashes | hangs | slowest call (ms) | slowest health (ms) | s |');
console.log(`|${' --- |'.repeat(9)}`);
for (const line of lines) console.log(line);
console.log(`\npeak RSS of the run: ${mb(peakRss)} MB; node ${process.version}`);
if (failures.length > 0) console.log(`\nfailures (keep as regression cases):\n${failures.join('\n')}`);
process.exitCode = failures.length > 0 ? 1 : 0;
