/**
 * Slow tier: the Helm chart's topology on one machine (issue 20, item 4; issue 21's hardened run).
 * The chart is rendered with helm; each Deployment's command, arguments and environment are
 * taken from the rendered manifests, rewriting only what one machine must change (endpoints to
 * loopback ports of a real nats-server and the S3 server, each process's gRPC and health ports,
 * `KZR_DATA_DIR`, the image's `/app`, the files of mounted Secrets and ConfigMaps,
 * `KUBECONFIG`), and each service (preprocess, inference, postprocess, trainer) runs as its own
 * process with exactly that environment. The trainer lays each phase Job over the rendered Job
 * template on the Kubernetes API stand-in, whose controller runs the Job's command as a local
 * process. A service that warns about an unknown `KZR_*` variable, or exits for a missing one,
 * fails the test.
 *
 * 1. Default values: a smoke dataset in the Store, `kzr.training.requested` for `smoke` on the
 *    Bus, then `kzr.models.published`, the new version SERVING on inference, and real answers
 *    from RecognizePage (the facade) and OIP ModelInfer. The time from request to SERVING is
 *    printed.
 * 2. The `hardened` values: certificates made at test time, nats-server with TLS and an NKey
 *    user whose `.creds` file the chart mounts, the S3 server behind TLS with the test CA, gRPC
 *    with mTLS and bearer tokens. The model set of (1) is copied into its Store, not trained
 *    again; RecognizePage and ModelInfer answer over mTLS with a token, and a plaintext call and
 *    a call without a token are refused.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import * as grpc from '@grpc/grpc-js';
import {
  GRPCInferenceServiceClient,
  ModelInferRequest,
  type ModelInferResponse,
} from '@kzr/api/inference/v2/grpc_predict_v2';
import { TrainingRequested } from '@kzr/api/kzr/v1/events';
import { InferenceClient, type RecognizePageResponse } from '@kzr/api/kzr/v1/inference';
import { generateSyntheticDataset } from '@kzr/data';
import {
  type Bus,
  clientCredentials,
  compileAdapterConfig,
  compileGrpcClientConfig,
  createLogger,
  type Env,
  EventSubject,
  hashToken,
  openBus,
  openStore,
  type Store,
} from '@kzr/platform';
import { ingestKaggleDir } from '@kzr/preprocess';
import { checkHealth, freePort, KubernetesApiStandIn, NatsServer, S3Server, TestPki } from '@kzr/testkit';
import { loadRunSpec, syntheticDatasetName } from '@kzr/trainer';
import { nkeys } from '@nats-io/transport-node';
import { parse } from 'yaml';

import { type K8sObject, render, repoRoot, chartDir } from './helpers/helm.js';
import { recognizeRequest, until } from './helpers/recognize-calls.js';

const timeout = 570_000;
const namespace = 'kzr';
const services = ['preprocess', 'inference', 'postprocess', 'trainer'] as const;
type ServiceName = (typeof services)[number];
const quiet = createLogger({ level: 'error' });

/** The parts of a rendered pod spec the topology reads. */
interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Container {
  command?: string[];
  args?: string[];
  env?: EnvEntry[];
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{
    name: string;
    secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
    configMap?: { name: string };
  }>;
}

/** The existing Secrets the chart's values name, by name and key (what a cluster would hold). */
type Secrets = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** What one machine offers in place of the cluster. */
interface Machine {
  /** Every file of this topology goes under it. */
  readonly dir: string;
  /** The nats-server's client port on 127.0.0.1. */
  readonly natsPort: number;
  /** The S3 server's endpoint. */
  readonly s3Endpoint: string;
  /** The Kubernetes API stand-in's kubeconfig file. */
  readonly kubeconfig: string;
  readonly secrets: Secrets;
}

/** Each service's ports on this machine. */
type Ports = Readonly<Record<ServiceName, { grpc: number; health: number }>>;

/** A started service process and what it printed. */
interface ServiceProcess {
  readonly name: ServiceName;
  readonly child: ChildProcess;
  readonly grpcEndpoint: string;
  readonly healthEndpoint: string;
  /** Its environment, exactly as it was started with. */
  readonly env: Readonly<Record<string, string>>;
  /** Its JSON log lines so far. */
  readonly lines: Array<Record<string, unknown>>;
  /** The tail of its stdout and stderr. */
  output(): string;
}

function podSpecOf(obj: K8sObject): PodSpec {
  return (obj['spec'] as { template: { spec: PodSpec } }).template.spec;
}
function componentOf(obj: K8sObject): string | undefined {
  return obj.metadata.labels?.['app.kubernetes.io/component'];
}

/**
 * The pod's environment for this machine: Secret references resolved as the kubelet does, the
 * namespace field, and each rewrite this machine needs (by variable), then every path under a
 * mounted volume moved to where its files are written here.
 */
function localEnv(
  entries: readonly EnvEntry[],
  secrets: Secrets,
  rewrites: Readonly<Record<string, (value: string) => string>>,
  mounts: ReadonlyMap<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    let value: string;
    if (entry.valueFrom?.secretKeyRef) {
      const { name, key } = entry.valueFrom.secretKeyRef;
      const secret = secrets[name]?.[key];
      assert.ok(secret !== undefined, `${entry.name}: the test holds no Secret ${name} with key ${key}`);
      value = secret;
    } else if (entry.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') {
      value = namespace;
    } else {
      assert.ok(entry.value !== undefined, `${entry.name}: neither a value nor a valueFrom the test knows`);
      value = entry.value;
    }
    const rewrite = rewrites[entry.name];
    if (rewrite) value = rewrite(value);
    for (const [mountPath, dir] of mounts) {
      if (value.startsWith(`${mountPath}/`)) value = join(dir, value.slice(mountPath.length + 1));
    }
    env[entry.name] = value;
  }
  return env;
}

/** The rewrites of the Store and Bus endpoints and the data directory, for services and phase Jobs alike. */
function adapterRewrites(machine: Machine, dataDir: string): Record<string, (value: string) => string> {
  return {
    KZR_DATA_DIR: () => dataDir,
    // The chart's scheme (nats:// or tls://) is kept: it says whether the Bus speaks TLS.
    KZR_NATS_URL: (url) => `${new URL(url).protocol}//127.0.0.1:${machine.natsPort}`,
    KZR_S3_ENDPOINT: () => machine.s3Endpoint,
  };
}

/** ConfigMaps' data by name and key, as this machine's files hold it. */
type ConfigMaps = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * Writes the files of a container's Secret and ConfigMap volumes under `dir` and returns where
 * each mount path's files are here.
 */
async function writeMounts(
  pod: PodSpec,
  container: Container,
  dir: string,
  secrets: Secrets,
  configMaps: ConfigMaps,
): Promise<Map<string, string>> {
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    const local = join(dir, mount.name);
    if (volume?.secret) {
      const { secretName, items } = volume.secret;
      for (const item of items ?? []) {
        const data = secrets[secretName]?.[item.key];
        assert.ok(data !== undefined, `volume ${mount.name}: the test holds no Secret ${secretName} key ${item.key}`);
        await mkdir(dirname(join(local, item.path)), { recursive: true });
        await writeFile(join(local, item.path), data, { mode: 0o600 });
      }
      mounts.set(mount.mountPath, local);
    } else if (volume?.configMap) {
      const data = configMaps[volume.configMap.name];
      assert.ok(data, `volume ${mount.name}: no ConfigMap ${volume.configMap.name}`);
      await mkdir(local, { recursive: true });
      for (const [key, text] of Object.entries(data)) await writeFile(join(local, key), text);
      mounts.set(mount.mountPath, local);
    }
    // emptyDir volumes (/tmp) need nothing: KZR_DATA_DIR, their only user, is rewritten.
  }
  return mounts;
}

/**
 * The phase Job template of the rendered ConfigMap with its container's environment made local
 * (the stand-in runs the container's command with exactly that environment, as a pod would).
 */
async function localJobTemplate(objects: K8sObject[], machine: Machine): Promise<string> {
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kzr-job-template');
  assert.ok(configMap, 'the chart renders the Job template ConfigMap');
  const job = parse((configMap['data'] as Record<string, string>)['job.yaml']!) as K8sObject;
  const pod = (job['spec'] as { template: { spec: PodSpec } }).template.spec;
  const container = pod.containers[0]!;
  const mounts = await writeMounts(pod, container, join(machine.dir, 'phase-files'), machine.secrets, {});
  const env = localEnv(
    container.env ?? [],
    machine.secrets,
    adapterRewrites(machine, join(machine.dir, 'phases')),
    mounts,
  );
  container.env = Object.entries(env).map(([name, value]) => ({ name, value }));
  return JSON.stringify(job);
}

/** Starts every rendered kzr Deployment as a process; resolves once each answers its liveness probe. */
async function startServices(objects: K8sObject[], machine: Machine): Promise<Map<ServiceName, ServiceProcess>> {
  const deployments = objects.filter(
    (o) => o.kind === 'Deployment' && services.includes(componentOf(o) as ServiceName),
  );
  assert.deepEqual(deployments.map(componentOf).sort(), [...services].sort());
  // Service DNS names (kzr-preprocess) to the component they front, for the endpoint variables.
  const serviceOf = new Map(
    objects.filter((o) => o.kind === 'Service').map((o) => [o.metadata.name!, componentOf(o) as ServiceName]),
  );
  const ports = Object.fromEntries(
    await Promise.all(services.map(async (s) => [s, { grpc: await freePort(), health: await freePort() }] as const)),
  ) as Ports;
  const configMaps = { 'kzr-job-template': { 'job.yaml': await localJobTemplate(objects, machine) } };
  const endpoint = (value: string): string => {
    const [host] = value.split(':');
    const target = serviceOf.get(host!);
    assert.ok(target, `${value} names no Service of the chart`);
    return `127.0.0.1:${ports[target].grpc}`;
  };

  const started = await Promise.all(
    deployments.map(async (deployment) => {
      const name = componentOf(deployment) as ServiceName;
      const pod = podSpecOf(deployment);
      assert.equal(pod.containers.length, 1);
      const container = pod.containers[0]!;
      const dir = join(machine.dir, name);
      const mounts = await writeMounts(pod, container, join(dir, 'files'), machine.secrets, configMaps);
      const env = localEnv(
        container.env ?? [],
        machine.secrets,
        {
          ...adapterRewrites(machine, join(dir, 'data')),
          KZR_GRPC_PORT: () => String(ports[name].grpc),
          KZR_HEALTH_PORT: () => String(ports[name].health),
          KZR_PREPROCESS_ENDPOINT: endpoint,
          KZR_POSTPROCESS_ENDPOINT: endpoint,
          // The image's WORKDIR is /app; here the repository is.
          KZR_TRAINER_JOB_COMMAND: (json) =>
            JSON.stringify(
              (JSON.parse(json) as string[]).map((part) =>
                part.startsWith('/app/') ? join(repoRoot, part.slice('/app/'.length)) : part,
              ),
            ),
        },
        mounts,
      );
      return startService(
        name,
        container,
        {
          ...env,
          // The image sets PATH; a pod would reach the API through its service account.
          PATH: process.env['PATH'] ?? '',
          ...(name === 'trainer' ? { KUBECONFIG: machine.kubeconfig } : {}),
        },
        ports[name],
      );
    }),
  );
  return new Map(started.map((s) => [s.name, s]));
}

/** Spawns one service as the Deployment's container runs it (cwd the repository, as /app is in the image). */
async function startService(
  name: ServiceName,
  container: Container,
  env: Record<string, string>,
  ports: { grpc: number; health: number },
): Promise<ServiceProcess> {
  const [command, ...commandArgs] = container.command ?? [];
  assert.equal(command, 'node', `${name}: the image's node`);
  const args = [...commandArgs, ...(container.args ?? [])];
  const main = args.at(-1)!;
  assert.ok(existsSync(join(repoRoot, main)), `${main} is missing: run npx tsc --build`);
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let tail = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-6000);
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) {
        if (!part.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(part) as Record<string, unknown>);
        } catch {
          // A line that only looks like JSON is in the tail still.
        }
      }
    });
  }
  const service: ServiceProcess = {
    name,
    child,
    grpcEndpoint: `127.0.0.1:${ports.grpc}`,
    healthEndpoint: `127.0.0.1:${ports.health}`,
    env,
    lines,
    output: () => tail,
  };
  // Up: its liveness probe SERVING, as the startupProbe asks. An exit first (a missing or bad
  // variable exits 2 naming it) fails with what it printed.
  const deadline = Date.now() + 120_000;
  for (;;) {
    assert.ok(child.exitCode === null && child.signalCode === null, `${name} exited (${child.exitCode}): ${tail}`);
    const status = await checkHealth(service.healthEndpoint, 'liveness', 2000).catch(() => undefined);
    if (status === 'SERVING') return service;
    assert.ok(Date.now() < deadline, `${name}: liveness not SERVING within 120 s: ${tail}`);
    await sleep(250);
  }
}

/** Fails on any unknown-variable warning a service printed. */
function assertNoUnknownVariables(started: ReadonlyMap<ServiceName, ServiceProcess>): void {
  for (const service of started.values()) {
    const warnings = service.lines.filter((l) => String(l['message']).includes('unknown KZR_'));
    assert.deepEqual(warnings, [], `${service.name} warned about unknown variables`);
    assert.ok(service.child.exitCode === null, `${service.name} exited: ${service.output()}`);
  }
}

async function stopServices(started: ReadonlyMap<ServiceName, ServiceProcess> | undefined): Promise<void> {
  await Promise.all(
    [...(started?.values() ?? [])].map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    }),
  );
}

/** Inference and OIP clients of `endpoint` as the client variables in `env` say (TLS, client certificate, token). */
function clients(endpoint: string, env: Env): { inference: InferenceClient; oip: GRPCInferenceServiceClient } {
  const { credentials, options } = clientCredentials(compileGrpcClientConfig(env));
  return {
    inference: new InferenceClient(endpoint, credentials, options),
    oip: new GRPCInferenceServiceClient(endpoint, credentials, options),
  };
}

/** One unary call with a 60 s deadline, as a promise. */
function unary<Req, Res>(
  call: (
    req: Req,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res: Res) => void,
  ) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    call(req, new grpc.Metadata(), { deadline: Date.now() + 60_000 }, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

/** Whether inference serves `version` of `modelSet` (OIP ModelReady). */
async function serves(oip: GRPCInferenceServiceClient, modelSet: string, version: string): Promise<boolean> {
  const ready = await unary(oip.modelReady.bind(oip), { name: modelSet, version }).catch(() => undefined);
  return ready?.ready === true;
}

/** RecognizePage through the facade and OIP ModelInfer; asserts real answers of `version`. */
async function assertAnswers(
  client: { inference: InferenceClient; oip: GRPCInferenceServiceClient },
  books: string,
  modelSet: string,
  version: string,
): Promise<{ characters: number }> {
  const page: RecognizePageResponse = await unary(
    client.inference.recognizePage.bind(client.inference),
    await recognizeRequest(books, modelSet),
  );
  assert.deepEqual(page.servedBy, { modelSet, version });
  assert.ok(page.characters.length > 0, 'RecognizePage found characters');
  assert.match(page.kaggleLabels, /^U\+[0-9A-F]{4,5} \d+ \d+( U\+[0-9A-F]{4,5} \d+ \d+)*$/);

  const metadata = await unary(client.oip.modelMetadata.bind(client.oip), { name: modelSet, version: '' });
  assert.deepEqual(metadata.versions, [version]);
  const [, side, , channels] = metadata.inputs[0]!.shape.map(Number);
  const crops = 2;
  const bytes = Buffer.alloc(crops * side! * side! * channels!);
  // A dark stroke on a light ground, one per crop at another place.
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % (side! * channels!) < side! ? 40 : 230;
  const infer: ModelInferResponse = await unary(
    client.oip.modelInfer.bind(client.oip),
    ModelInferRequest.fromPartial({
      modelName: modelSet,
      inputs: [{ name: 'crops', datatype: 'UINT8', shape: [crops, side!, side!, channels!] }],
      rawInputContents: [bytes],
    }),
  );
  assert.equal(infer.modelVersion, version);
  // Raw input, raw output: the labels tensor's bytes at its output's index.
  const labels = infer.outputs.findIndex((o) => o.name === 'labels');
  assert.deepEqual(infer.outputs[labels]?.shape.map(Number), [crops]);
  const codes = splitBytesTensor(Buffer.from(infer.rawOutputContents[labels]!));
  assert.equal(codes.length, crops);
  for (const code of codes) assert.match(code, /^U\+[0-9A-F]{4,5}$/);
  return { characters: page.characters.length };
}

/** A raw BYTES tensor: each element a 4-byte little-endian length, then its bytes. */
function splitBytesTensor(raw: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 4 <= raw.length;) {
    const n = raw.readUInt32LE(at);
    out.push(raw.subarray(at + 4, at + 4 + n).toString());
    at += 4 + n;
  }
  return out;
}

/** Waits for `kzr.models.published` of `runId` on the Bus. */
async function publishedVersion(
  bus: Bus,
  runId: string,
  timeoutMs: number,
): Promise<{ modelSet: string; version: string }> {
  let found: { modelSet: string; version: string } | undefined;
  const subscription = await bus.consume(
    { durable: 'topology-test', filterSubject: EventSubject.ModelsPublished },
    async (message) => {
      if (message.event.runId === runId)
        found = { modelSet: message.event.model!.modelSet, version: message.event.model!.version };
    },
  );
  try {
    await until('kzr.models.published of the run', async () => found !== undefined, timeoutMs);
    return found!;
  } finally {
    await subscription.stop();
  }
}

/** The access file and tokens of the auth Secret: the services' own token (infer) and the test's. */
function authSecret(): { secret: Record<string, string>; clientToken: string } {
  const serviceToken = `kzr-services-${randomBytes(16).toString('hex')}`;
  const clientToken = `kzr-topology-${randomBytes(16).toString('hex')}`;
  const access = {
    tokens: [
      { name: 'kzr-services', sha256: hashToken(serviceToken), role: 'infer' },
      { name: 'topology-test', sha256: hashToken(clientToken), role: 'infer' },
    ],
  };
  return { secret: { 'tokens.json': JSON.stringify(access), token: serviceToken }, clientToken };
}

describe('the chart on one machine', { timeout }, () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });
  /** What test 1 leaves for test 2: its Store, the published version, the books the pages come from. */
  let published: { store: Store; modelSet: string; version: string; books: string } | undefined;

  it('default topology: trains smoke through the Bus and the Job template, then serves it', { timeout }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-topology-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const [nats, s3, kube] = await Promise.all([NatsServer.start(), S3Server.start(), KubernetesApiStandIn.start()]);
    cleanups.push(
      () => kube.cleanup(),
      () => nats.cleanup(),
      () => s3.cleanup(),
    );
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kube.kubeconfig(namespace));
    const auth = authSecret();
    const machine: Machine = {
      dir,
      natsPort: nats.port,
      s3Endpoint: s3.endpoint,
      kubeconfig,
      secrets: {
        'kzr-s3': { accessKey: S3Server.accessKey, secretKey: S3Server.secretKey },
        'kzr-auth': auth.secret,
      },
    };
    const objects = await render([join(chartDir, 'ci', 'default-values.yaml')]);
    const started = await startServices(objects, machine);
    cleanups.push(() => stopServices(started));
    assertNoUnknownVariables(started);

    // The Store and Bus as the services see them (the trainer's environment), and the smoke
    // preset's synthetic dataset stored as `kzr run start` stores it (run-setup).
    const trainerEnv = started.get('trainer')!.env;
    const adapters = compileAdapterConfig(trainerEnv, join(dir, 'test-data'));
    const store = await openStore(adapters.store);
    cleanups.push(() => store.close());
    const bus = await openBus(adapters.bus, { logger: quiet, source: 'kzr-topology-test' });
    cleanups.push(() => bus.close());
    const { synthetic } = (await loadRunSpec({ preset: 'smoke' })).dataset;
    const books = join(dir, 'books');
    await generateSyntheticDataset({ ...synthetic!, outDir: books });
    await ingestKaggleDir({ dataset: syntheticDatasetName(synthetic!), store, bus, sourceDir: books });

    const runId = `topology-${Date.now().toString(36)}`;
    const requested = performance.now();
    await bus.publish(EventSubject.TrainingRequested, TrainingRequested.fromPartial({ runId, preset: 'smoke' }), {
      id: runId,
    });
    const { modelSet, version } = await publishedVersion(bus, runId, 480_000).catch((err: unknown) =>
      assert.fail(`${String(err)}\ntrainer: ${started.get('trainer')!.output()}`),
    );
    const client = clients(started.get('inference')!.grpcEndpoint, { KZR_AUTH_TOKEN: auth.clientToken });
    cleanups.push(async () => (client.inference.close(), client.oip.close()));
    await until('the new version SERVING on inference', () => serves(client.oip, modelSet, version), 120_000);
    const seconds = (performance.now() - requested) / 1000;
    assert.equal(await checkHealth(started.get('inference')!.healthEndpoint), 'SERVING');

    // Every phase ran as a Job laid over the rendered template: its labels, the image's kzr, and
    // the Store and Bus from the template's environment (the chart sets no KZR_TRAINER_JOB_ENV).
    const jobs = kube.jobs();
    assert.ok(jobs.length > 0);
    for (const job of jobs) {
      const [container] = job.spec.template.spec.containers;
      assert.equal(job.metadata.labels?.['app.kubernetes.io/component'], 'phase', job.metadata.name);
      assert.deepEqual(container!.command?.slice(0, 3), [
        'node',
        '--conditions=production',
        join(repoRoot, 'packages/cli/bin/kzr.js'),
      ]);
      assert.ok(
        container!.env?.some((e) => e.name === 'KZR_S3_ENDPOINT' && e.value === s3.endpoint),
        job.metadata.name,
      );
    }
    const answers = await assertAnswers(client, books, modelSet, version);
    assertNoUnknownVariables(started);
    process.stderr.write(
      `# topology (default values): smoke requested -> ${modelSet} ${version} SERVING in ${seconds.toFixed(1)} s ` +
        `(${jobs.length} Jobs, ${answers.characters} characters on the page)\n`,
    );
    published = { store, modelSet, version, books };
    await stopServices(started);
  });

  it(
    'hardened topology: mTLS, tokens, NATS credentials and S3 behind TLS, serving the published set',
    { timeout },
    async () => {
      assert.ok(published, 'the default topology published a model set');
      const dir = await mkdtemp(join(tmpdir(), 'kzr-topology-hardened-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const pki = await TestPki.create();
      cleanups.push(() => pki.cleanup());
      const [natsCert, s3Cert, serviceCert, clientCert] = await Promise.all([
        pki.issue('nats'),
        pki.issue('s3'),
        pki.issue('kzr-services', '/CN=kzr-services/O=kzr'),
        pki.issue('topology-client', '/CN=topology-client/O=kzr'),
      ]);
      // The NATS user of the credentials file: an NKey the account lists (a server without an
      // operator checks the nonce's signature by the .creds file's seed).
      const user = nkeys.createUser();
      const seed = new TextDecoder().decode(user.getSeed());
      const creds = [
        '-----BEGIN NATS USER JWT-----',
        'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.unused',
        '------END NATS USER JWT------',
        '',
        '-----BEGIN USER NKEY SEED-----',
        seed,
        '------END USER NKEY SEED------',
        '',
      ].join('\n');
      const nats = await NatsServer.start({
        extraConfig: [
          'tls {',
          `  cert_file: ${JSON.stringify(natsCert.certFile)}`,
          `  key_file: ${JSON.stringify(natsCert.keyFile)}`,
          '}',
          'accounts {',
          `  KZR { jetstream: enabled, users: [ { nkey: ${user.getPublicKey()} } ] }`,
          '}',
        ],
      });
      const s3 = await S3Server.start({ tls: { certFile: s3Cert.certFile, keyFile: s3Cert.keyFile } });
      const kube = await KubernetesApiStandIn.start();
      cleanups.push(
        () => kube.cleanup(),
        () => nats.cleanup(),
        () => s3.cleanup(),
      );
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(kubeconfig, kube.kubeconfig(namespace));
      const ca = await readFile(pki.caFile, 'utf8');
      const auth = authSecret();
      const machine: Machine = {
        dir,
        natsPort: nats.port,
        s3Endpoint: s3.endpoint,
        kubeconfig,
        secrets: {
          'kzr-s3': { accessKey: S3Server.accessKey, secretKey: S3Server.secretKey },
          'kzr-s3-ca': { 'ca.crt': ca },
          'kzr-nats-credentials': { 'nats.creds': creds },
          'kzr-nats-ca': { 'ca.crt': ca },
          'kzr-auth': auth.secret,
          'kzr-grpc-tls': {
            'tls.crt': await readFile(serviceCert.certFile, 'utf8'),
            'tls.key': await readFile(serviceCert.keyFile, 'utf8'),
            'ca.crt': ca,
          },
        },
      };

      // The published model set, copied into this Store (its bytes and recorded sha256 unchanged).
      const objects = await render([join(chartDir, 'ci', 'hardened-values.yaml')]);
      const copyEnv = {
        KZR_STORE: 's3',
        KZR_S3_ENDPOINT: s3.endpoint,
        KZR_S3_ACCESS_KEY: S3Server.accessKey,
        KZR_S3_SECRET_KEY: S3Server.secretKey,
        KZR_S3_CA_FILE: pki.caFile,
      };
      const store = await openStore(compileAdapterConfig(copyEnv, join(dir, 'test-data')).store);
      cleanups.push(() => store.close());
      const prefix = `models/${published.modelSet}/`;
      const members = await published.store.list(prefix);
      assert.ok(members.length > 0);
      for (const info of members) {
        await store.put(info.key, await published.store.get(info.key), {
          contentType: info.contentType,
          metadata: info.metadata,
        });
      }

      const starting = performance.now();
      const started = await startServices(objects, machine);
      cleanups.push(() => stopServices(started));
      assertNoUnknownVariables(started);
      const endpoint = started.get('inference')!.grpcEndpoint;
      const tls = {
        KZR_GRPC_TLS_CA_FILE: pki.caFile,
        KZR_GRPC_TLS_CERT_FILE: clientCert.certFile,
        KZR_GRPC_TLS_KEY_FILE: clientCert.keyFile,
      };
      const client = clients(endpoint, { ...tls, KZR_AUTH_TOKEN: auth.clientToken });
      cleanups.push(async () => (client.inference.close(), client.oip.close()));
      const { modelSet, version, books } = published;
      await until('the published version SERVING on inference', () => serves(client.oip, modelSet, version), 120_000);
      const seconds = (performance.now() - starting) / 1000;
      await assertAnswers(client, books, modelSet, version);
      process.stderr.write(
        `# topology (hardened values): services started and ${modelSet} ${version} SERVING over mTLS in ${seconds.toFixed(1)} s\n`,
      );

      // Refused: plaintext; TLS without a client certificate (mTLS is required); and mTLS without
      // a token, whose certificate's subject the access file gives no role.
      const plaintext = clients(endpoint, { KZR_AUTH_TOKEN: auth.clientToken });
      const noCertificate = clients(endpoint, { KZR_GRPC_TLS_CA_FILE: pki.caFile, KZR_AUTH_TOKEN: auth.clientToken });
      const noToken = clients(endpoint, tls);
      cleanups.push(async () =>
        [plaintext, noCertificate, noToken].forEach((c) => (c.inference.close(), c.oip.close())),
      );
      const request = await recognizeRequest(books, modelSet);
      const refused = (client: typeof plaintext): Promise<grpc.status> =>
        unary(client.inference.recognizePage.bind(client.inference), request).then(
          () => assert.fail('answered'),
          (err: grpc.ServiceError) => err.code,
        );
      assert.equal(await refused(plaintext), grpc.status.UNAVAILABLE);
      assert.equal(await refused(noCertificate), grpc.status.UNAVAILABLE);
      assert.equal(await refused(noToken), grpc.status.PERMISSION_DENIED);
      assertNoUnknownVariables(started);
      await stopServices(started);
    },
  );
});
