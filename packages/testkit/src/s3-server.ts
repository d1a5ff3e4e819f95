/**
 * An S3 server for tests: s3rver 3.7.1 in this process on a free loopback port, in a temporary
 * directory, with the buckets asked for. Usable with `await using`.
 *
 * s3rver lacks two multipart calls the `minio` client and the S3 Store make, so a test-only shim
 * (one Koa middleware in front of s3rver's own) adds them:
 * - `GET /<bucket>?uploads` (ListMultipartUploads) answers an empty listing;
 * - `DELETE /<bucket>/<key>?uploadId=<id>` (AbortMultipartUpload) removes the upload's parts.
 * The shim depends on s3rver's internals (its Koa middleware array, its upload directory); keep
 * s3rver pinned.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import S3rver, { type KoaContext } from 's3rver';

/** Options of {@link S3Server.start}. */
export interface S3ServerOptions {
  /** Buckets created at start. @default ['kzr'] */
  readonly buckets?: readonly string[];
  /** Serve HTTPS with this certificate (a `TestPki`'s) instead of HTTP. @default HTTP */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** The loopback port. @default a free one */
  readonly port?: number;
  /**
   * The folder of the buckets: one a server before it used keeps its objects (a restarted
   * server). @default a new temporary folder
   */
  readonly directory?: string;
}

const namespace = 'http://s3.amazonaws.com/doc/2006-03-01/';

function emptyUploadListing(bucket: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ListMultipartUploadsResult xmlns="${namespace}">`,
    `<Bucket>${bucket}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>`,
    '<NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker>',
    '<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>',
    '</ListMultipartUploadsResult>',
  ].join('');
}

/** A running s3rver. */
export class S3Server implements AsyncDisposable {
  /** Access key and secret s3rver accepts. */
  static readonly accessKey = 'S3RVER';
  static readonly secretKey = 'S3RVER';
  static readonly region = 'us-east-1';

  readonly host = '127.0.0.1';
  readonly port: number;
  readonly directory: string;
  readonly #server: S3rver;
  readonly #https: boolean;

  private constructor(server: S3rver, port: number, directory: string, https: boolean) {
    this.#server = server;
    this.port = port;
    this.directory = directory;
    this.#https = https;
  }

  /** Starts a server on a free loopback port. */
  static async start(options: S3ServerOptions = {}): Promise<S3Server> {
    const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'kzr-s3-')));
    const server = new S3rver({
      address: '127.0.0.1',
      port: options.port ?? 0,
      silent: true,
      directory,
      configureBuckets: (options.buckets ?? ['kzr']).map((name) => ({ name })),
      ...(options.tls ? { cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) } : {}),
    });
    server.middleware.unshift(async (ctx, next) => {
      if (!(await multipartShim(ctx, directory))) await next();
    });
    try {
      const address = await server.run();
      // Node's default 5 s keep-alive equals the idle timeout of Node 20's global agent, which S3
      // clients use: a request sent on a socket the server closes that instant fails with "socket
      // hang up". Object stores keep idle connections longer than their clients do; so does this.
      server.httpServer.keepAliveTimeout = 60_000;
      return new S3Server(server, address.port, directory, options.tls !== undefined);
    } catch (err) {
      if (options.directory === undefined) await rm(directory, { recursive: true, force: true });
      throw err;
    }
  }

  /** `http://127.0.0.1:<port>` (`https://` with TLS). */
  get endpoint(): string {
    return `${this.#https ? 'https' : 'http'}://${this.host}:${this.port}`;
  }

  /** Ids of the multipart uploads of `bucket` that were neither completed nor aborted. */
  async openUploads(bucket: string): Promise<string[]> {
    try {
      return await readdir(join(this.directory, bucket, '._S3rver_uploads'));
    } catch {
      return [];
    }
  }

  /**
   * Stops the server, cutting its open connections, and keeps its directory: a server started
   * with this `port` and `directory` serves the same objects (a restart).
   */
  async stop(): Promise<void> {
    this.#server.httpServer.closeAllConnections();
    await this.#server.close().catch(() => undefined);
  }

  /** Stops the server and removes its directory. */
  async cleanup(): Promise<void> {
    await this.#server.close().catch(() => undefined);
    await rm(this.directory, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

/** Answers the two multipart calls s3rver lacks; returns false for everything else. */
async function multipartShim(ctx: KoaContext, directory: string): Promise<boolean> {
  const segments = ctx.path.split('/').filter(Boolean);
  if (ctx.method === 'GET' && segments.length === 1 && 'uploads' in ctx.query) {
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = emptyUploadListing(segments[0]!);
    return true;
  }
  const uploadId = ctx.query['uploadId'];
  if (ctx.method === 'DELETE' && segments.length >= 2 && typeof uploadId === 'string') {
    if (!/^[0-9a-f]+$/.test(uploadId)) return false;
    await rm(join(directory, segments[0]!, '._S3rver_uploads', uploadId), { recursive: true, force: true });
    ctx.status = 204;
    ctx.body = null;
    return true;
  }
  return false;
}
