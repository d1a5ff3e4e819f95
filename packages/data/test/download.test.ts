import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { IntegrityError } from '@kzr/core';

import {
  DATASET_FILES,
  datasetFiles,
  DownloadError,
  downloadDataset,
  downloadFile,
  type DatasetFile,
} from '../src/index.js';

/** A loopback mirror: serves `files` by path, honours Range, and can cut the first N transfers halfway. */
class Mirror {
  readonly files = new Map<string, Buffer>();
  readonly requests: Array<{ path: string; range: string | undefined }> = [];
  cutNext = 0;
  ignoreRange = false;
  private server: Server | undefined;
  baseUrl = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/mirror/`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').replace(/^\/mirror\//, '');
    this.requests.push({ path, range: req.headers.range });
    const body = this.files.get(path);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !this.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
    } else {
      res.writeHead(200, { 'content-length': body.length });
    }
    const rest = body.subarray(start);
    if (this.cutNext > 0) {
      this.cutNext--;
      res.write(rest.subarray(0, Math.floor(rest.length / 2)), () => res.destroy());
      return;
    }
    res.end(rest);
  }
}

function payload(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function specFor(name: string, data: Buffer): DatasetFile {
  return {
    dataset: 'k49',
    name,
    path: `k49/${name}`,
    bytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    md5: createHash('md5').update(data).digest('hex'),
  };
}

describe('dataset downloader against a loopback mirror', () => {
  const mirror = new Mirror();
  let dir: string;
  before(async () => {
    await mirror.start();
    dir = await mkdtemp(join(tmpdir(), 'kzr-dl-'));
  });
  after(async () => {
    await mirror.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the table holds the official paths of KMNIST, K49 and Kuzushiji-Kanji with digests for each file', () => {
    assert.deepEqual(
      datasetFiles('k49').map((f) => f.path),
      ['k49/k49-train-imgs.npz', 'k49/k49-train-labels.npz', 'k49/k49-test-imgs.npz', 'k49/k49-test-labels.npz'],
    );
    assert.equal(datasetFiles('kmnist').length, 4);
    assert.deepEqual(
      datasetFiles('kkanji').map((f) => f.path),
      ['kkanji/kkanji.tar'],
    );
    for (const file of DATASET_FILES) assert.ok(file.sha256 !== undefined || file.md5 !== undefined, file.name);
    assert.throws(() => datasetFiles('nope' as 'k49'), /unknown dataset "nope"/);
  });

  it('resumes an interrupted transfer with a Range request and verifies the whole file', async () => {
    const data = payload(300_000, 1);
    mirror.files.set('k49/resume.bin', data);
    mirror.cutNext = 1;
    mirror.requests.length = 0;
    const dest = join(dir, 'resume');

    // A first call without retries stops halfway and leaves the .part file.
    await assert.rejects(
      downloadFile(specFor('resume.bin', data), { destDir: dest, baseUrl: mirror.baseUrl, retries: 0 }),
      (err: unknown) => DownloadError.is(err) && err.retryable,
    );
    const partial = (await stat(join(dest, 'resume.bin.part'))).size;
    assert.ok(partial > 0 && partial < data.length, `partial ${partial}`);

    // The second call asks only for the rest.
    const result = await downloadFile(specFor('resume.bin', data), { destDir: dest, baseUrl: mirror.baseUrl });
    assert.equal(result.resumed, true);
    assert.deepEqual(mirror.requests.at(-1), { path: 'k49/resume.bin', range: `bytes=${partial}-` });
    assert.ok((await readFile(result.path)).equals(data));
    assert.deepEqual(await readdir(dest), ['resume.bin']);

    // A third call finds the verified file and fetches nothing.
    const count = mirror.requests.length;
    const again = await downloadFile(specFor('resume.bin', data), { destDir: dest, baseUrl: mirror.baseUrl });
    assert.equal(again.cached, true);
    assert.equal(mirror.requests.length, count);
  });

  it('retries a cut transfer by itself, and starts over when the server ignores Range', async () => {
    const data = payload(200_000, 2);
    mirror.files.set('k49/retry.bin', data);
    mirror.cutNext = 1;
    mirror.ignoreRange = true;
    try {
      const result = await downloadFile(specFor('retry.bin', data), {
        destDir: join(dir, 'retry'),
        baseUrl: mirror.baseUrl,
        retries: 2,
        retryDelayMs: 1,
      });
      assert.ok((await readFile(result.path)).equals(data));
      assert.equal(result.resumed, false);
    } finally {
      mirror.ignoreRange = false;
    }
  });

  it('stops with an IntegrityError naming the check and removes the download when the sha256 differs', async () => {
    const data = payload(5_000, 3);
    mirror.files.set('k49/bad.bin', data);
    const spec = { ...specFor('bad.bin', data), sha256: '0'.repeat(64) };
    const dest = join(dir, 'bad');
    await assert.rejects(
      downloadFile(spec, { destDir: dest, baseUrl: mirror.baseUrl }),
      (err: unknown) =>
        IntegrityError.is(err) &&
        err.check === 'sha256' &&
        err.expected === '0'.repeat(64) &&
        err.url?.endsWith('/k49/bad.bin') === true &&
        /bad\.bin: sha256 mismatch: .*the download was discarded/.test(err.message),
    );
    assert.deepEqual(await readdir(dest), []);

    // Explicitly overridden: the file is kept and the mismatch reported.
    const kept = await downloadFile(spec, { destDir: dest, baseUrl: mirror.baseUrl, allowMismatch: true });
    assert.ok((await readFile(kept.path)).equals(data));
    assert.deepEqual(
      kept.mismatches.map((m) => m.check),
      ['sha256'],
    );
  });

  it('checks the real table: a mirror serving wrong bytes for k49 is refused on size and md5', async () => {
    for (const file of datasetFiles('k49')) mirror.files.set(file.path, Buffer.from('not the dataset'));
    await assert.rejects(
      downloadDataset('k49', { destDir: join(dir, 'k49'), baseUrl: mirror.baseUrl }),
      (err: unknown) => IntegrityError.is(err) && err.check === 'size' && err.field === 'k49-train-imgs.npz',
    );
  });

  it('reports HTTP errors as DownloadError with the status, not retryable for 404', async () => {
    await assert.rejects(
      downloadFile(
        { dataset: 'k49', name: 'missing.bin', path: 'k49/missing.bin' },
        { destDir: join(dir, 'missing'), baseUrl: mirror.baseUrl },
      ),
      (err: unknown) => DownloadError.is(err) && err.status === 404 && !err.retryable,
    );
  });

  it('draws a progress bar on a terminal stream and nothing on a pipe', async () => {
    const data = payload(100_000, 4);
    mirror.files.set('k49/bar.bin', data);
    const collect = async (isTTY: boolean, sub: string): Promise<string> => {
      const out = Object.assign(new PassThrough(), { isTTY });
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      await downloadFile(specFor('bar.bin', data), {
        destDir: join(dir, sub),
        baseUrl: mirror.baseUrl,
        progressStream: out,
      });
      return Buffer.concat(chunks).toString();
    };
    const tty = await collect(true, 'tty');
    assert.match(tty, /\rbar\.bin \[#{24}\] 100% 0\.1\/0\.1 MB/);
    assert.ok(tty.endsWith('\n'));
    assert.equal(await collect(false, 'pipe'), '');
  });

  it('leaves a half file resumable when cancelled', async () => {
    const data = payload(50_000, 5);
    mirror.files.set('k49/cancel.bin', data);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      downloadFile(specFor('cancel.bin', data), {
        destDir: join(dir, 'cancel'),
        baseUrl: mirror.baseUrl,
        signal: controller.signal,
      }),
      { name: 'AbortError' },
    );
    await writeFile(join(dir, 'cancel', 'cancel.bin.part'), data.subarray(0, 1000));
    const result = await downloadFile(specFor('cancel.bin', data), {
      destDir: join(dir, 'cancel'),
      baseUrl: mirror.baseUrl,
    });
    assert.equal(result.resumed, true);
    assert.ok((await readFile(result.path)).equals(data));
  });
});
