// Preloaded (--import) by scripts/run-tests.sh into every test file's process: at exit, appends
// "<wall ms>\t<file>" to the file named by KZR_TEST_TIMES. The wall time runs from the process's
// start, so it includes loading the file and its imports, which the reporter's test durations
// leave out. The variable is taken out of the environment so that processes a test starts do
// not report themselves.
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const out = process.env.KZR_TEST_TIMES;
delete process.env.KZR_TEST_TIMES;
const file = process.argv[1];
if (out && file && process.env.NODE_TEST_CONTEXT) {
  process.on('exit', () => {
    appendFileSync(out, `${performance.now().toFixed(0)}\t${relative(process.cwd(), file)}\n`);
  });
}
