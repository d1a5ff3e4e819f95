/**
 * The live page of `kzr start` (README "The live page"): one HTTP server in the same process as
 * the services, on 127.0.0.1 unless `KZR_HTTP_HOST` says otherwise. It serves the page (static
 * files from `packages/cli/web/` and the front-end library, Preact with htm, from node_modules:
 * no network, no build step), the runs as server-sent events (`/api/runs/events`, sent again
 * whenever a run's phases change), and the JSON API of {@link LivePageApi}. Every request passes
 * the {@link RequestGuard} first.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ErrorKind, KzrError } from '@kzr/core';
import { AccessControl, ConfigError, LimitExceededError, type Logger, ValidationError } from '@kzr/platform';

import { LivePageApi, type LivePageDeps } from './api.js';
import type { LivePageConfig } from './config.js';
import { RequestGuard } from './guard.js';

/** How often the runs are read again while a page listens. */
const runsPollMs = 1000;
/** The largest request body: a page scan in base64 and its detections. */
const maxBodyBytes = 96 * 1024 ** 2;

/** `packages/cli/web/`, from the sources and from `dist/`. */
const webDir = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../web/' : '../../web/', import.meta.url),
);
const require = createRequire(import.meta.url);

/** The files the page loads, by path: the page's own and the library's ES modules. */
const files: ReadonlyMap<string, { file: string; type: string }> = new Map([
  ['/', { file: join(webDir, 'index.html'), type: 'text/html; charset=utf-8' }],
  ['/app.js', { file: join(webDir, 'app.js'), type: 'text/javascript; charset=utf-8' }],
  ['/style.css', { file: join(webDir, 'style.css'), type: 'text/css; charset=utf-8' }],
  [
    '/vendor/preact.js',
    { file: join(dirname(require.resolve('preact/package.json')), 'dist/preact.module.js'), type: 'text/javascript' },
  ],
  [
    '/vendor/preact-hooks.js',
    {
      file: join(dirname(require.resolve('preact/package.json')), 'hooks/dist/hooks.module.js'),
      type: 'text/javascript',
    },
  ],
  ['/vendor/htm.js', { file: join(dirname(require.resolve('htm')), 'htm.module.js'), type: 'text/javascript' }],
]);

/** The gRPC method whose role each API route needs when auth is on (platform's `methodRoles`). */
const routeMethods: Readonly<Record<string, string>> = {
  'GET /api/runs/events': '/kzr.v1.Trainer/ListRuns',
  'GET /api/runs/report': '/kzr.v1.Trainer/GetRun',
  'GET /api/runs/log': '/kzr.v1.Trainer/GetRun',
  'GET /api/models': '/kzr.v1.Trainer/ListModelSets',
  'GET /api/pages': '/kzr.v1.Inference/RecognizePage',
  'GET /api/pages/image': '/kzr.v1.Inference/RecognizePage',
  'POST /api/recognize': '/kzr.v1.Inference/RecognizePage',
  'POST /api/retrain': '/kzr.v1.Trainer/StartRun',
  'POST /api/models/promote': '/kzr.v1.Trainer/PromoteVersion',
  'POST /api/models/rollback': '/kzr.v1.Trainer/RollbackVersion',
};

/** What the live page needs besides its address. */
export interface LivePageOptions extends LivePageDeps {
  readonly config: LivePageConfig;
  /** The access file (`KZR_AUTH_TOKENS_FILE`); undefined: open, as the gRPC ports are. */
  readonly authTokensFile: string | undefined;
  readonly logger: Logger;
}

/** A running live page. */
export interface LivePage extends AsyncDisposable {
  /** `http://host:port/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** The HTTP status of a kzr error's kind. */
function statusOf(err: unknown): number {
  if (!(err instanceof KzrError)) return 500;
  const byKind: Partial<Record<ErrorKind, number>> = {
    [ErrorKind.Invalid]: 400,
    [ErrorKind.NotFound]: 404,
    [ErrorKind.Unavailable]: 503,
    [ErrorKind.Deadline]: 504,
    [ErrorKind.Conflict]: 409,
    [ErrorKind.ResourceExhausted]: 413,
  };
  return byKind[err.kind] ?? 500;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new LimitExceededError('body', `${size} bytes`, 'the largest body', maxBodyBytes);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ValidationError('body', 'expected a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('body', 'expected a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Starts the live page; rejects when its port is taken. */
export async function startLivePage(options: LivePageOptions): Promise<LivePage> {
  const { config, logger } = options;
  const api = new LivePageApi(options);
  const access = new AccessControl(
    { tokensFile: options.authTokensFile, clientCertificates: false },
    logger.child({ component: 'live-page' }),
  );
  const listeners = new Set<ServerResponse>();
  let last = '';
  let polling: NodeJS.Timeout | undefined;
  /** Reads the runs and sends them to every listener when they changed (to `only` always). */
  const sendRuns = async (only?: ServerResponse): Promise<void> => {
    const data = JSON.stringify(await api.runs());
    if (only === undefined && data === last) return;
    last = data;
    for (const res of only === undefined ? listeners : [only]) res.write(`event: runs\ndata: ${data}\n\n`);
  };
  const poll = (): void => {
    polling = setTimeout(() => {
      sendRuns()
        .catch((err: unknown) => logger.warn('live page: runs not read', { err }))
        .finally(() => {
          if (listeners.size > 0) poll();
          else polling = undefined;
        });
    }, runsPollMs);
  };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>> = {
    'GET /api/config': async (_req, res) => sendJson(res, 200, { auth: guard.authEnabled }),
    'GET /api/runs/events': async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      listeners.add(res);
      req.on('close', () => listeners.delete(res));
      await sendRuns(res);
      if (polling === undefined) poll();
    },
    'GET /api/runs/report': async (_req, res, url) => {
      const html = await api.report(url.searchParams.get('run') ?? '');
      // The report runs its own script in an origin of its own: it cannot call this page's API.
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': 'sandbox allow-scripts',
      });
      res.end(html);
    },
    'GET /api/runs/log': async (_req, res, url) => {
      const p = url.searchParams;
      const log = await api.phaseLog(p.get('run') ?? '', p.get('phase') ?? '', Number(p.get('attempt') ?? '1'));
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end(log);
    },
    'GET /api/models': async (_req, res) => sendJson(res, 200, await api.models()),
    'GET /api/pages': async (_req, res, url) =>
      sendJson(res, 200, await api.pages(url.searchParams.get('dataset') ?? '')),
    'GET /api/pages/image': async (_req, res, url) => {
      const p = url.searchParams;
      const image = await api.pageImage(p.get('dataset') ?? '', p.get('page') ?? '');
      res.writeHead(200, { 'content-type': image.mediaType });
      res.end(image.bytes);
    },
    'POST /api/recognize': async (req, res) => sendJson(res, 200, await api.recognize(await readJson(req))),
    'POST /api/retrain': async (req, res) => sendJson(res, 202, await api.retrain(await readJson(req))),
    'POST /api/models/promote': async (req, res) => sendJson(res, 200, await api.promote(await readJson(req))),
    'POST /api/models/rollback': async (req, res) => sendJson(res, 200, await api.rollback(await readJson(req))),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://page');
    const route = `${req.method} ${url.pathname}`;
    const file = req.method === 'GET' ? files.get(url.pathname) : undefined;
    const handler = routes[route];
    if (file === undefined && handler === undefined) return sendJson(res, 404, { error: `${url.pathname}: not found` });
    const refused = guard.check(req, routeMethods[route]);
    if (refused !== undefined) {
      logger.warn('live page: request refused', { route, status: refused.status, reason: refused.message });
      return sendJson(res, refused.status, { error: refused.message });
    }
    if (file !== undefined) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
      createReadStream(file.file).pipe(res);
      return;
    }
    try {
      await handler!(req, res, url);
    } catch (err) {
      const status = statusOf(err);
      if (status === 500) logger.error('live page: request failed', { route, err });
      if (!res.headersSent) sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
      else res.end();
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              'KZR_HTTP_PORT',
              String(config.port),
              `a free port (${config.host}:${config.port} is taken; 0 picks one, off serves no page)`,
            )
          : err,
      ),
    );
    server.listen(config.port, config.host, () => resolve());
  });
  // Watched from here on: a page that did not start leaves no watcher behind.
  access.watch(1000);
  const port = (server.address() as { port: number }).port;
  const guard = new RequestGuard(config.host, port, access);
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/`;
  const close = async (): Promise<void> => {
    access.close();
    clearTimeout(polling);
    for (const res of listeners) res.end();
    listeners.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // The event streams stay open until cut.
    server.closeAllConnections();
    await closed;
  };
  return { url, close, [Symbol.asyncDispose]: close };
}
