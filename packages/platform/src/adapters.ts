/**
 * Choosing the adapters by configuration: the embedded mode (default) runs the in-process Bus,
 * the filesystem Store under the data directory and local jobs; the cluster mode (Helm) sets
 * `KZR_BUS=nats`, `KZR_STORE=s3` and `KZR_JOBS=kubernetes`. No code path exists in one mode
 * only, except the adapters themselves.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';

import { KzrError } from '@kzr/core';

import type { Bus } from './bus/types.js';
import { readMachineBus } from './bus/machine-bus.js';
import { MemoryBus } from './bus/memory-bus.js';
import { compileNatsAuth, compileNatsTls, type NatsAuth, type NatsTls } from './bus/nats-auth.js';
import { NatsBus } from './bus/nats-bus.js';
import { type Env, readChoice, readInt, readString, readUrl, readUrls } from './env.js';
import { ConfigError, NotReadyError } from './errors.js';
import { readJobTemplate } from './jobs/job-manifest.js';
import { KubernetesJobRunner } from './jobs/kubernetes-job-runner.js';
import { LocalJobRunner } from './jobs/local-job-runner.js';
import type { JobRunner } from './jobs/types.js';
import type { Logger } from './logger.js';
import { FsStore } from './store/fs-store.js';
import { S3Store } from './store/s3-store.js';
import type { Store } from './store/types.js';

/** Which Bus (`KZR_BUS`). */
export type BusConfig =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'nats';
      /** Server URLs (`KZR_NATS_URL`, comma-separated). */
      readonly servers: readonly string[];
      /** Stream (`KZR_NATS_STREAM`). @default 'KZR' */
      readonly stream: string;
      /** Credentials (`KZR_NATS_CREDS_FILE`, `KZR_NATS_NKEY_SEED_FILE`, `KZR_NATS_USER`/`KZR_NATS_PASSWORD` or `KZR_NATS_TOKEN`). @default none */
      readonly auth: NatsAuth | undefined;
      /** TLS with the server's CA (`KZR_NATS_CA_FILE`). @default none */
      readonly tls: NatsTls | undefined;
    };

/** Which Store (`KZR_STORE`). */
export type StoreConfig =
  | {
      readonly kind: 'fs';
      /** Root directory (`KZR_STORE_DIR`). @default `<data dir>/store` */
      readonly root: string;
    }
  | {
      readonly kind: 's3';
      /** `KZR_S3_ENDPOINT`, e.g. `http://minio:9000`. */
      readonly endpoint: string;
      /** `KZR_S3_BUCKET`. @default 'kzr' */
      readonly bucket: string;
      /** `KZR_S3_ACCESS_KEY`, else the file `KZR_S3_ACCESS_KEY_FILE`, else `AWS_ACCESS_KEY_ID`. */
      readonly accessKey: string;
      /** `KZR_S3_SECRET_KEY`, else the file `KZR_S3_SECRET_KEY_FILE`, else `AWS_SECRET_ACCESS_KEY`. */
      readonly secretKey: string;
      /** PEM CA of an `https` endpoint's certificate (`KZR_S3_CA_FILE`). @default the system CAs */
      readonly caFile: string | undefined;
      /** `KZR_S3_REGION`. @default 'us-east-1' */
      readonly region: string;
      /** `KZR_S3_PART_SIZE_MB`. @default 8 */
      readonly partSizeBytes: number;
    };

/** Which JobRunner (`KZR_JOBS`). */
export type JobsConfig =
  | {
      readonly kind: 'local';
      /** Where job output goes. @default `<data dir>/jobs` */
      readonly logDir: string;
    }
  | {
      readonly kind: 'kubernetes';
      /** `KZR_KUBE_NAMESPACE`. @default the kubeconfig's (in a pod: its own) namespace */
      readonly namespace: string | undefined;
      /** `KZR_KUBE_SERVICE_ACCOUNT`: service account of the Job pods. */
      readonly serviceAccountName: string | undefined;
      /**
       * `KZR_JOB_TEMPLATE_FILE`: the batch/v1 Job (YAML or JSON) every Job body is laid over;
       * the Helm chart mounts it. @default none: bare Jobs
       */
      readonly templateFile: string | undefined;
    };

/** The three adapter choices. */
export interface AdapterConfig {
  readonly bus: BusConfig;
  readonly store: StoreConfig;
  readonly jobs: JobsConfig;
}

function required<T>(value: T | undefined, name: string, why: string): T {
  if (value === undefined) throw new ConfigError(name, '', `a value (${why})`);
  return value;
}

/**
 * The data directory of the filesystem Store and local job state, absolute: `KZR_DATA_DIR`,
 * else `$XDG_DATA_HOME/kzr`, else `~/.local/share/kzr`. The CLI and every standalone service
 * read it here, so they all find the same Store.
 */
export function defaultDataDir(env: Env): string {
  const dataHome = readString(env, 'XDG_DATA_HOME') ?? join(homedir(), '.local', 'share');
  return resolve(readString(env, 'KZR_DATA_DIR') ?? join(dataHome, 'kzr'));
}

/**
 * A secret from `name`, else from the file `<name>_FILE` (a mounted Secret; surrounding white
 * space dropped), else from the standard variable `fallback`.
 */
function readSecret(env: Env, name: string, fallback: string): string | undefined {
  const direct = readString(env, name);
  if (direct !== undefined) return direct;
  const file = readString(env, `${name}_FILE`);
  if (file === undefined) return readString(env, fallback);
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${name}_FILE`, file, `a readable file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (value === '') throw new ConfigError(`${name}_FILE`, file, 'a file holding the secret');
  return value;
}

/** `KZR_S3_CA_FILE`, checked to be PEM that TLS accepts, and only with an `https` endpoint. */
function readS3CaFile(env: Env): string | undefined {
  const caFile = readString(env, 'KZR_S3_CA_FILE');
  if (caFile === undefined) return undefined;
  if (!readString(env, 'KZR_S3_ENDPOINT')?.startsWith('https:')) {
    throw new ConfigError('KZR_S3_CA_FILE', caFile, 'unset, or an https: KZR_S3_ENDPOINT');
  }
  try {
    createSecureContext({ ca: readFileSync(caFile) });
  } catch (err) {
    throw new ConfigError('KZR_S3_CA_FILE', caFile, `a readable PEM CA certificate (${(err as Error).message})`);
  }
  return caFile;
}

/** Compiles the adapter choices; throws a ConfigError naming the first bad variable. */
export function compileAdapterConfig(env: Env, dataDir: string): AdapterConfig {
  // Unset KZR_BUS: the NATS that KZR_NATS_URL names, else the machine's Bus while `kzr start`
  // runs one for this data directory, else the in-process Bus.
  const machineBus = readString(env, 'KZR_NATS_URL') === undefined ? readMachineBus(dataDir) : undefined;
  const busKind =
    readChoice(env, 'KZR_BUS', ['memory', 'nats'] as const) ??
    (readString(env, 'KZR_NATS_URL') !== undefined || machineBus !== undefined ? 'nats' : 'memory');
  const storeKind = readChoice(env, 'KZR_STORE', ['fs', 's3'] as const) ?? 'fs';
  const jobsKind = readChoice(env, 'KZR_JOBS', ['local', 'kubernetes'] as const) ?? 'local';
  const bus: BusConfig =
    busKind === 'memory'
      ? { kind: 'memory' }
      : {
          kind: 'nats',
          servers: required(
            readUrls(env, 'KZR_NATS_URL', ['nats', 'tls'], 'nats') ?? (machineBus ? [machineBus] : undefined),
            'KZR_NATS_URL',
            'needed with KZR_BUS=nats',
          ),
          stream: readString(env, 'KZR_NATS_STREAM') ?? 'KZR',
          auth: compileNatsAuth(env),
          tls: compileNatsTls(env),
        };
  const store: StoreConfig =
    storeKind === 'fs'
      ? { kind: 'fs', root: readString(env, 'KZR_STORE_DIR') ?? join(dataDir, 'store') }
      : {
          kind: 's3',
          endpoint: required(
            readUrl(env, 'KZR_S3_ENDPOINT', ['http', 'https']),
            'KZR_S3_ENDPOINT',
            'needed with KZR_STORE=s3',
          ),
          bucket: readString(env, 'KZR_S3_BUCKET') ?? 'kzr',
          accessKey: required(
            readSecret(env, 'KZR_S3_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'),
            'KZR_S3_ACCESS_KEY',
            'or KZR_S3_ACCESS_KEY_FILE or AWS_ACCESS_KEY_ID, needed with KZR_STORE=s3',
          ),
          secretKey: required(
            readSecret(env, 'KZR_S3_SECRET_KEY', 'AWS_SECRET_ACCESS_KEY'),
            'KZR_S3_SECRET_KEY',
            'or KZR_S3_SECRET_KEY_FILE or AWS_SECRET_ACCESS_KEY, needed with KZR_STORE=s3',
          ),
          caFile: readS3CaFile(env),
          region: readString(env, 'KZR_S3_REGION') ?? 'us-east-1',
          partSizeBytes: (readInt(env, 'KZR_S3_PART_SIZE_MB', 5, 5120) ?? 8) * 1024 * 1024,
        };
  const jobs: JobsConfig =
    jobsKind === 'local'
      ? { kind: 'local', logDir: join(dataDir, 'jobs') }
      : {
          kind: 'kubernetes',
          namespace: readString(env, 'KZR_KUBE_NAMESPACE'),
          serviceAccountName: readString(env, 'KZR_KUBE_SERVICE_ACCOUNT'),
          templateFile: readString(env, 'KZR_JOB_TEMPLATE_FILE'),
        };
  return Object.freeze({ bus: Object.freeze(bus), store: Object.freeze(store), jobs: Object.freeze(jobs) });
}

/** Opened adapters; `close` releases them in reverse order. */
export interface Adapters extends AsyncDisposable {
  readonly bus: Bus;
  readonly store: Store;
  readonly jobs: JobRunner;
  /** One line per adapter for start-up reports, e.g. `{ bus: 'memory', store: 'fs:/data/store', jobs: 'local' }`. */
  readonly describe: Readonly<Record<'bus' | 'store' | 'jobs', string>>;
  close(): Promise<void>;
}

/** Opens the configured Store alone (for a command that needs no Bus or jobs). */
export async function openStore(config: StoreConfig): Promise<Store> {
  return config.kind === 'fs'
    ? FsStore.open({ root: config.root })
    : S3Store.connect({
        endpoint: config.endpoint,
        bucket: config.bucket,
        accessKey: config.accessKey,
        secretKey: config.secretKey,
        region: config.region,
        partSizeBytes: config.partSizeBytes,
        caFile: config.caFile,
      });
}

/** Options of {@link openBus} and {@link openAdapters}. */
export interface OpenAdaptersOptions {
  readonly logger: Logger;
  readonly source: string;
  /**
   * How long a NATS server that cannot be reached yet is waited for (a service or a phase Job
   * started while it restarts; NatsBus's `connectTimeoutMs`). @default 0 (a command fails at once)
   */
  readonly connectTimeoutMs?: number;
}

/**
 * Opens the configured Bus alone (for a command that only publishes). A NATS server that cannot
 * be reached is a NotReadyError `bus: cannot connect to <servers>: <reason>`.
 */
export async function openBus(config: BusConfig, options: OpenAdaptersOptions): Promise<Bus> {
  const logger = options.logger.child({ adapter: 'bus' });
  if (config.kind === 'memory') return new MemoryBus({ source: options.source, logger });
  try {
    return await NatsBus.connect({
      servers: config.servers,
      stream: config.stream,
      auth: config.auth,
      tls: config.tls,
      name: options.source,
      logger,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });
  } catch (err) {
    if (err instanceof KzrError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new NotReadyError(`bus: cannot connect to ${config.servers.join(',')}: ${reason}`, { cause: err });
  }
}

/** Opens the configured adapters; if one fails, the ones already open are closed. */
export async function openAdapters(config: AdapterConfig, options: OpenAdaptersOptions): Promise<Adapters> {
  // A bad template fails before any connection opens.
  const template =
    config.jobs.kind === 'kubernetes' && config.jobs.templateFile !== undefined
      ? readJobTemplate(config.jobs.templateFile)
      : undefined;
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const bus = await openBus(config.bus, options);
    opened.push(bus);
    const store = await openStore(config.store);
    opened.push(store);
    let jobs: JobRunner;
    if (config.jobs.kind === 'local') {
      jobs = new LocalJobRunner({ logDir: config.jobs.logDir });
    } else {
      // Loaded here, not at the top: it costs about a second, and most processes run local jobs.
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      jobs = new KubernetesJobRunner({
        kubeConfig,
        ...(config.jobs.namespace ? { namespace: config.jobs.namespace } : {}),
        ...(config.jobs.serviceAccountName ? { serviceAccountName: config.jobs.serviceAccountName } : {}),
        ...(template ? { template } : {}),
        logger: options.logger.child({ adapter: 'jobs' }),
      });
    }
    opened.push(jobs);
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        for (const adapter of [...opened].reverse()) {
          await adapter.close().catch((err: unknown) => options.logger.warn('adapter close failed', { err }));
        }
      })();
      return closing;
    };
    return {
      bus,
      store,
      jobs,
      describe: {
        bus: config.bus.kind === 'nats' ? `nats:${config.bus.servers.join(',')}` : 'memory',
        store:
          config.store.kind === 'fs' ? `fs:${config.store.root}` : `s3:${config.store.endpoint}/${config.store.bucket}`,
        jobs: config.jobs.kind === 'kubernetes' ? `kubernetes:${(jobs as KubernetesJobRunner).namespace}` : 'local',
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    for (const adapter of opened.reverse()) await adapter.close().catch(() => undefined);
    throw err;
  }
}
