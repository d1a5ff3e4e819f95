/**
 * bench/inference: the inference service on a tiny model set (configs/models/tiny-resnet-gray32,
 * one member, ONNX Runtime engine, TTA 7-crop, soft voting) in one run:
 *
 * 1. the engine alone, in process: crops/s of ONNX Runtime on the 7 views of each crop (batches of
 *    `--crops` crops), against PyTorch on the CPU (Debian python3-torch, same tiny ResNet, same
 *    views, same thread count): the ratio is the acceptance number (≥ 1.0×, goal 3×);
 * 2. the whole classification in process (decode-free: TTA views, normalisation, dynamic
 *    batching, ensemble) at concurrency 1, 8 and 32, one crop per request;
 * 3. the same over gRPC (kzr.v1 ClassifyCrops, PNG crops) at concurrency 1, 8 and 32: crops/s,
 *    p50 and p99 latency; the gRPC overhead is printed separately (throughput ratio and the
 *    added p50 latency against 2).
 *
 *   npx tsx bench/inference/run.ts [--threads 1] [--crops 32] [--seconds 3] [--python /usr/bin/python3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import {
  type ClassifyCropsRequest,
  type ClassifyCropsResponse,
  InferenceClient,
  Voting,
} from '@kzr/api/kzr/v1/inference';
import { protoRoot } from '@kzr/api/proto-root';
import { encodePng, type RawImage } from '@kzr/imaging';
import { publishModelSet } from '@kzr/artifacts';
import { classifyCrops, createInferenceServing, buildRows } from '@kzr/inference';
import { createClassifier, countParams, readModelConfig } from '@kzr/ml';
import { createLogger, FsStore, GrpcServer } from '@kzr/platform';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

const { values: flags } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    crops: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '3' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const threads = Number(flags.threads);
const batchCrops = Number(flags.crops);
const seconds = Number(flags.seconds);
const configPath = fileURLToPath(new URL('../../configs/models/tiny-resnet-gray32.json', import.meta.url));
const silent = createLogger({ write: () => {} });

// The service's metrics are OpenTelemetry instruments; the bench reads them as an exporter would.
class BenchReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}
const reader = new BenchReader();
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));

function crop(seed: number): RawImage {
  const width = 30 + (seed % 7);
  const height = 34 + (seed % 5);
  const data = new Uint8Array(width * height * 3);
  let s = seed * 2654435761;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, channels: 3, data };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs `worker` on `concurrency` loops for `seconds`; crops/s and latency percentiles. */
async function load(
  concurrency: number,
  cropsPerRequest: number,
  worker: (i: number) => Promise<void>,
): Promise<{ cropsPerSecond: number; p50Ms: number; p99Ms: number; requests: number }> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      let i = c;
      while (performance.now() < end) {
        const t0 = performance.now();
        await worker(i);
        latencies.push(performance.now() - t0);
        i += concurrency;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    cropsPerSecond: (latencies.length * cropsPerRequest) / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    requests: latencies.length,
  };
}

const dir = await mkdtemp(join(tmpdir(), 'kzr-bench-inference-'));
try {
  const config = await readModelConfig(configPath);
  const model = createClassifier({ ...config.model, initSeed: 1 });
  const params = countParams(model).totalParams;
  const codes = Array.from(
    { length: config.model.numClasses },
    (_, i) => `U+${(0x4e00 + i).toString(16).toUpperCase()}`,
  );
  const input = {
    channels: config.model.inputChannels,
    scaleSize: config.input.inferResize,
    cropSize: config.input.inferCrop,
    mean: config.input.mean,
    std: config.input.std,
  };
  const store = new FsStore({ root: join(dir, 'store') });
  await publishModelSet(store, {
    modelSet: 'bench',
    version: 'v1',
    codes,
    members: [{ name: 'tiny', kind: 'kzr', model, input }],
    engine: 'onnx',
    voting: 'soft',
  });
  model.dispose();
  const runtime = createInferenceServing({
    store,
    logger: silent,
    limits: { maxBatch: 7 * 64, maxDelayMs: 2, maxCropsPerRequest: 4096 },
    intraOpThreads: threads,
  });
  const set = await runtime.registry.activate('bench', 'v1');
  const engine = set.members[0]!.engine;
  console.log(JSON.stringify({ model: config.name, params, engine: engine.kind, threads, crops: batchCrops, seconds }));

  // 1. The engine alone: the 7 views of `batchCrops` crops per run.
  const crops = Array.from({ length: batchCrops }, (_, i) => crop(i));
  const rows = buildRows(crops, input, true);
  await engine.run(rows, batchCrops * 7);
  const engineOnly = await load(1, batchCrops, async () => {
    await engine.run(rows, batchCrops * 7);
  });
  let torch: { cropsPerSecond: number; params: number; torch: string } | undefined;
  try {
    const out = execFileSync(
      flags.python!,
      [
        fileURLToPath(new URL('./torch_infer.py', import.meta.url)),
        JSON.stringify({ threads, crops: batchCrops, views: 7, size: input.cropSize, classes: codes.length, seconds }),
      ],
      { encoding: 'utf8' },
    );
    torch = JSON.parse(out) as typeof torch;
  } catch (err) {
    console.log(
      `PyTorch reference unavailable (apt-get install -y python3-torch): ${(err as Error).message.split('\n')[0]}`,
    );
  }
  console.log(
    JSON.stringify({
      part: 'engine alone (TTA 7-crop, in process)',
      kzrOnnxCropsPerSecond: Math.round(engineOnly.cropsPerSecond),
      torchCropsPerSecond: torch ? Math.round(torch.cropsPerSecond) : null,
      torchParams: torch?.params ?? null,
      ratio: torch ? +(engineOnly.cropsPerSecond / torch.cropsPerSecond).toFixed(2) : null,
      torch: torch?.torch ?? null,
    }),
  );

  // 2. In process, whole classification, one crop per request.
  const inProcess: Record<number, Awaited<ReturnType<typeof load>>> = {};
  for (const c of [1, 8, 32]) {
    inProcess[c] = await load(c, 1, async (i) => {
      await classifyCrops(set, [crops[i % crops.length]!], { voting: 'soft' });
    });
    console.log(JSON.stringify({ part: 'in process', concurrency: c, ...round(inProcess[c]) }));
  }

  // 3. Over gRPC.
  const server = await GrpcServer.start({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 16 * 1024 * 1024,
    services: runtime.services,
    reflectionProtoFiles: [],
    protoIncludeDirs: [protoRoot],
    logger: silent,
  });
  const pngs = await Promise.all(crops.map((c) => encodePng(c)));
  const clients = Array.from(
    { length: 8 },
    () => new InferenceClient(server.endpoint, grpc.credentials.createInsecure()),
  );
  const classify = (i: number): Promise<ClassifyCropsResponse> => {
    const request: ClassifyCropsRequest = {
      model: { modelSet: 'bench', version: '' },
      crops: [{ data: pngs[i % pngs.length]!, mediaType: MediaType.MEDIA_TYPE_PNG }],
      topK: 5,
      voting: Voting.VOTING_SOFT,
    };
    return new Promise((resolve, reject) =>
      clients[i % clients.length]!.classifyCrops(request, (err, res) => (err ? reject(err) : resolve(res))),
    );
  };
  await classify(0);
  for (const c of [1, 8, 32]) {
    const r = await load(c, 1, async (i) => {
      await classify(i);
    });
    const p = inProcess[c]!;
    console.log(
      JSON.stringify({
        part: 'gRPC ClassifyCrops',
        concurrency: c,
        ...round(r),
        grpcOverhead: {
          throughputRatio: +(r.cropsPerSecond / p.cropsPerSecond).toFixed(2),
          addedP50Ms: +(r.p50Ms - p.p50Ms).toFixed(2),
        },
      }),
    );
  }
  const { resourceMetrics } = await reader.collect();
  const batchSize = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === 'kzr.inference.batch.size');
  const batches = (batchSize?.dataPoints ?? [])
    .map((p) => p.value as { count: number; sum: number })
    .reduce((a, v) => ({ count: a.count + v.count, sum: a.sum + v.sum }), { count: 0, sum: 0 });
  console.log(
    JSON.stringify({ part: 'batches', count: batches.count, meanRows: +(batches.sum / batches.count).toFixed(1) }),
  );
  for (const c of clients) c.close();
  await server.shutdown(1000);
  await runtime.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}

function round(r: Awaited<ReturnType<typeof load>>): Record<string, number> {
  return {
    cropsPerSecond: Math.round(r.cropsPerSecond),
    p50Ms: +r.p50Ms.toFixed(2),
    p99Ms: +r.p99Ms.toFixed(2),
    requests: r.requests,
  };
}
