/**
 * bench/cold-start: how long each service takes from process start to SERVING (the overall
 * gRPC health, what the readiness probe checks) and to its first answered request, started the
 * way the chart starts it (`node --conditions=production --import <instrumentation> <main>`,
 * the built `dist/`), on this machine or, with `--image`, in the CPU image under podman + runc.
 *
 * - preprocess: first answer = PreprocessPage of a 256x256 PNG (Ben + denoise);
 * - postprocess: first answer = Score of a one-page submission;
 * - inference: first answer = ClassifyCrops of one crop on the model set, which is loaded and
 *   warmed before inference reports SERVING.
 *
 * The model set: `--data-dir <dir> --model-set <name>` serves one that `kzr run start --preset
 * default` (or `npm start`) published there (the default preset publishes `kuzushiji`). Without
 * them the bench publishes a stand-in into a fresh data directory: the default preset's five
 * model configurations with untrained weights (what loading and warming cost depends on the
 * architectures, not on the weights), labelled `stand-in` in the output.
 *
 *   npx tsx bench/cold-start/run.ts [--runs 5] [--data-dir <dir> --model-set <name>] [--image localhost/kzr:cpu]
 *
 * Prints one JSON line per start and a Markdown table of medians (ms).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { MediaType } from '@kzr/api/kzr/v1/common';
import { InferenceClient, Voting } from '@kzr/api/kzr/v1/inference';
import { PostprocessClient } from '@kzr/api/kzr/v1/postprocess';
import { PreprocessClient } from '@kzr/api/kzr/v1/preprocess';
import { PagePreprocessing, publishModelSet } from '@kzr/artifacts';
import { encodePng, type RawImage } from '@kzr/imaging';
import { createClassifier, parseModelConfig } from '@kzr/ml';
import { compileAdapterConfig, freePort, openStore } from '@kzr/platform';
import { loadRunSpec } from '@kzr/trainer';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'data-dir': { type: 'string' },
    'model-set': { type: 'string' },
    image: { type: 'string' },
  },
});
const runs = Number(flags.runs);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const services = ['preprocess', 'postprocess', 'inference'] as const;
type ServiceName = (typeof services)[number];

/** Publishes the stand-in model set: the default preset's configurations, untrained. */
async function publishStandIn(dataDir: string): Promise<string> {
  const spec = await loadRunSpec({ preset: 'default' });
  const store = await openStore(compileAdapterConfig({}, dataDir).store);
  const configs = spec.models.map((m) => ({ name: m.name, config: parseModelConfig(m.config) }));
  const classes = configs[0]!.config.model.numClasses;
  const models = configs.map(({ config }, i) => createClassifier({ ...config.model, initSeed: i + 1 }));
  try {
    await publishModelSet(store, {
      modelSet: 'cold-start',
      version: 'stand-in',
      codes: Array.from({ length: classes }, (_v, i) => `U+${(0x4e00 + i).toString(16).toUpperCase()}`),
      members: configs.map(({ name, config }, i) => ({
        name,
        kind: 'kzr',
        model: models[i]!,
        input: {
          channels: config.model.inputChannels,
          scaleSize: config.input.inferResize,
          cropSize: config.input.inferCrop,
          mean: config.input.mean,
          std: config.input.std,
        },
      })),
      voting: 'hard',
      pagePreprocessing: PagePreprocessing.BenDenoise,
    });
  } finally {
    for (const m of models) m.dispose();
    await store.close();
  }
  return 'cold-start';
}

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, res: { status: string }) => void,
  ): void;
}
const Health = (
  grpc.loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (endpoint: string, creds: grpc.ChannelCredentials) => HealthClient } } };
  }
).grpc.health.v1.Health;

/** The overall health (what the readiness probe checks), or UNREACHABLE while nothing listens. */
function checkHealth(endpoint: string): Promise<string> {
  const client = new Health(endpoint, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.Check({ service: '' }, { deadline: Date.now() + 1000 }, (err, res) => {
      client.close();
      resolve(err ? 'UNREACHABLE' : res.status);
    }),
  );
}

/** A grey page with dark strokes. */
function page(size: number): RawImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = ((i / 3) % size) % 9 < 3 ? 50 : 200;
  return { width: size, height: size, channels: 3, data };
}

/** The first request of each service; resolves once it is answered. */
async function firstRequest(service: ServiceName, endpoint: string, modelSet: string, png: Uint8Array): Promise<void> {
  const insecure = grpc.credentials.createInsecure();
  const image = { source: { $case: 'encoded' as const, value: { data: png, mediaType: MediaType.MEDIA_TYPE_PNG } } };
  const call = <T>(fn: (cb: (err: grpc.ServiceError | null, res: T) => void) => void): Promise<T> =>
    new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
  if (service === 'preprocess') {
    const client = new PreprocessClient(endpoint, insecure);
    await call((cb) => client.preprocessPage({ image, skipBen: false, skipDenoise: false }, cb));
    client.close();
  } else if (service === 'postprocess') {
    const client = new PostprocessClient(endpoint, insecure);
    const truth = 'image_id,labels\np1,U+3042 10 10 20 20\n';
    const submission = 'image_id,labels\np1,U+3042 20 20\n';
    await call((cb) => client.score({ truthCsv: truth, submissionCsv: submission }, cb));
    client.close();
  } else {
    const client = new InferenceClient(endpoint, insecure);
    await call((cb) =>
      client.classifyCrops(
        { model: { modelSet, version: '' }, crops: [image.source.value], topK: 1, voting: Voting.VOTING_HARD },
        cb,
      ),
    );
    client.close();
  }
}

/** The command that starts `service` as the chart does: here, or in the image under podman. */
function command(service: ServiceName, dataDir: string): [string, string[]] {
  const node = [
    '--conditions=production',
    '--import',
    `./services/${service}/dist/src/instrumentation.js`,
    `services/${service}/dist/src/main.js`,
  ];
  if (!flags.image) return [process.execPath, node];
  return [
    'podman',
    [
      '--runtime',
      '/usr/sbin/runc',
      '--cgroup-manager',
      'cgroupfs',
      'run',
      '--rm',
      '--network=host',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=1024:1024',
      '-v',
      `${dataDir}:/data`,
      ...['KZR_GRPC_HOST', 'KZR_GRPC_PORT', 'KZR_LOG_LEVEL'].flatMap((k) => ['-e', k]),
      ...(service === 'inference' ? ['-e', 'KZR_INFERENCE_MODEL_SETS'] : []),
      '-e',
      'KZR_DATA_DIR=/data',
      flags.image,
      ...node,
    ],
  ];
}

interface Start {
  readonly service: ServiceName;
  /** Until the server first answered health at all (listening; inference then still loads its sets). */
  readonly listeningMs: number;
  readonly servingMs: number;
  readonly firstAnswerMs: number;
}

async function coldStart(service: ServiceName, dataDir: string, modelSet: string, png: Uint8Array): Promise<Start> {
  const port = await freePort();
  const endpoint = `127.0.0.1:${port}`;
  const [file, args] = command(service, dataDir);
  const started = performance.now();
  const child: ChildProcess = spawn(file, args, {
    cwd: repoRoot,
    env: {
      ...process.env,
      KZR_DATA_DIR: dataDir,
      KZR_GRPC_HOST: '127.0.0.1',
      KZR_GRPC_PORT: String(port),
      ...(service === 'inference' ? { KZR_INFERENCE_MODEL_SETS: modelSet } : {}),
      KZR_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    let servingMs = 0;
    let listeningMs = 0;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode} before SERVING`);
      const status = await checkHealth(endpoint);
      if (status !== 'UNREACHABLE' && listeningMs === 0) listeningMs = performance.now() - started;
      if (status === 'SERVING') {
        servingMs = performance.now() - started;
        break;
      }
      if (performance.now() - started > 300_000) throw new Error(`${service} not SERVING after 300 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await firstRequest(service, endpoint, modelSet, png);
    return { service, listeningMs, servingMs, firstAnswerMs: performance.now() - started };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const scratch = flags['data-dir'] ? undefined : await mkdtemp(join(tmpdir(), 'kzr-cold-start-'));
try {
  const dataDir = flags['data-dir'] ?? scratch!;
  // The image runs as uid 10001: it reads the model set from the mounted data directory.
  if (scratch && flags.image) await chmod(scratch, 0o755);
  const modelSet = flags['model-set'] ?? (await publishStandIn(dataDir));
  const label = flags['model-set'] ? `${modelSet} (published)` : `${modelSet} (stand-in: default preset, untrained)`;
  const png = await encodePng(page(256));
  // The floor every start pays: node itself, and the machine's load at the time.
  const nodeStarted = performance.now();
  execFileSync(process.execPath, ['-e', '0']);
  const nodeMs = performance.now() - nodeStarted;
  const where = flags.image ? `image ${flags.image}` : 'this machine';
  console.log(JSON.stringify({ where, modelSet: label, runs, nodeMs: Math.round(nodeMs) }));
  const results: Start[] = [];
  for (let run = 0; run < runs; run++) {
    for (const service of services) {
      const r = await coldStart(service, dataDir, modelSet, png);
      results.push(r);
      const ms = { listeningMs: r.listeningMs, servingMs: r.servingMs, firstAnswerMs: r.firstAnswerMs };
      console.log(
        JSON.stringify({ run, service, ...Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(v)])) }),
      );
    }
  }
  console.log(`\n${where}, model set ${label}, median of ${runs} starts, node -e 0: ${Math.round(nodeMs)} ms\n`);
  console.log('| service | start to listening (ms) | start to SERVING (ms) | start to first answer (ms) |');
  console.log('|---|---|---|---|');
  for (const service of services) {
    const mine = results.filter((r) => r.service === service);
    const cell = (pick: (r: Start) => number): number => Math.round(median(mine.map(pick)));
    console.log(
      `| ${service} | ${cell((r) => r.listeningMs)} | ${cell((r) => r.servingMs)} | ${cell((r) => r.firstAnswerMs)} |`,
    );
  }
} finally {
  if (scratch) await rm(scratch, { recursive: true, force: true });
}
