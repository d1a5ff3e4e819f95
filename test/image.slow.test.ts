/**
 * Slow tier: builds the CPU image with images/build-cpu.sh (mmdebstrap base, buildah, an OCI
 * archive) and smoke-runs it under podman + runc with a read-only root, /tmp a tmpfs and uid
 * 10001: the postprocess service must answer SERVING on its health-only port and exit 0 on
 * SIGTERM. Needs root and the Debian packages scripts/ensure-env.sh installs for the slow tier.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { repoRoot } from './helpers/helm.js';

const run = promisify(execFile);

interface BuildReport {
  image: string;
  archive: string;
  imageBytes: number;
  baseBytes: number;
  archiveBytes: number;
  buildSeconds: number;
  servingMs: number;
  exitCode: number;
}

describe('the CPU image', () => {
  it('builds into an OCI archive, serves health read-only as uid 10001 and drains on SIGTERM', async () => {
    const { stdout, stderr } = await run('bash', [join(repoRoot, 'images', 'build-cpu.sh')], {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 570_000,
    });
    const line = stdout.trim().split('\n').at(-1) ?? '';
    const report = JSON.parse(line) as BuildReport;
    process.stderr.write(`# image: ${line}\n`);
    assert.equal(report.exitCode, 0, stderr.slice(-2000));
    assert.ok(report.servingMs > 0 && report.servingMs < 60_000, `SERVING after ${report.servingMs} ms`);
    assert.equal((await stat(report.archive)).size, report.archiveBytes);
    assert.ok(report.imageBytes > report.baseBytes, 'the image adds kzr to its base');
  });
});
