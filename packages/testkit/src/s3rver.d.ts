// Types for the parts of s3rver 3.7.1 the test kit uses (the package ships none).
declare module 's3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
    /** With `cert`, serve HTTPS (PEM). */
    key?: Buffer;
    cert?: Buffer;
  }

  /** The Koa context subset the shim reads and writes. */
  export interface KoaContext {
    method: string;
    path: string;
    query: Record<string, string | string[] | undefined>;
    status: number;
    type: string;
    body: unknown;
  }

  type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

  class S3rver {
    constructor(options?: S3rverOptions);
    /** Koa's middleware array (s3rver extends Koa). */
    middleware: Middleware[];
    run(): Promise<AddressInfo>;
    /** The listening server, once `run` resolved. */
    httpServer: Server;
    close(): Promise<void>;
  }
  export default S3rver;
}
