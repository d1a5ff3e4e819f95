/**
 * The `KZR_*` variables kzr reads, so that a service can say at start which of its environment it
 * ignores: a misspelt `KZR_S3_ENDPONT` would otherwise fall back to a default in silence. The
 * platform lists its own names here; each service adds the names its config reads.
 */
import type { Env } from './env.js';

/** Every `KZR_*` variable the platform reads (server kit, adapters, telemetry, jobs). */
export const platformEnvNames: readonly string[] = Object.freeze([
  // server kit and lifecycle (config.ts, service/config.ts)
  'KZR_GRPC_HOST',
  'KZR_GRPC_PORT',
  'KZR_GRPC_MAX_MESSAGE_BYTES',
  'KZR_HEALTH_PORT',
  'KZR_SHUTDOWN_GRACE_MS',
  'KZR_LOG_LEVEL',
  // gRPC security of servers and clients (grpc/tls.ts, grpc/auth.ts)
  'KZR_GRPC_TLS_CERT_FILE',
  'KZR_GRPC_TLS_KEY_FILE',
  'KZR_GRPC_TLS_CLIENT_CA_FILE',
  'KZR_GRPC_TLS_CA_FILE',
  'KZR_AUTH_TOKENS_FILE',
  'KZR_AUTH_TOKEN',
  'KZR_AUTH_TOKEN_FILE',
  'KZR_INSECURE',
  // adapters (adapters.ts)
  'KZR_DATA_DIR',
  'KZR_BUS',
  'KZR_NATS_URL',
  'KZR_NATS_STREAM',
  'KZR_NATS_SERVER',
  'KZR_NATS_CREDS_FILE',
  'KZR_NATS_NKEY_SEED_FILE',
  'KZR_NATS_USER',
  'KZR_NATS_PASSWORD',
  'KZR_NATS_TOKEN',
  'KZR_NATS_CA_FILE',
  'KZR_STORE',
  'KZR_STORE_DIR',
  'KZR_S3_ENDPOINT',
  'KZR_S3_BUCKET',
  'KZR_S3_ACCESS_KEY',
  'KZR_S3_SECRET_KEY',
  'KZR_S3_REGION',
  'KZR_S3_PART_SIZE_MB',
  'KZR_S3_ACCESS_KEY_FILE',
  'KZR_S3_SECRET_KEY_FILE',
  'KZR_S3_CA_FILE',
  'KZR_JOBS',
  'KZR_KUBE_NAMESPACE',
  'KZR_KUBE_SERVICE_ACCOUNT',
  // the Kubernetes JobRunner's Job template file (the chart mounts it into the trainer)
  'KZR_JOB_TEMPLATE_FILE',
  // telemetry (telemetry/config.ts)
  'KZR_METRICS_PORT',
  'KZR_METRICS_HOST',
  // the live page of `kzr start` (packages/cli/src/web)
  'KZR_HTTP_PORT',
  'KZR_HTTP_HOST',
]);

/** The `KZR_*` names set in `env` that are neither the platform's nor in `known`, sorted. */
export function unknownEnvNames(env: Env, known: readonly string[]): string[] {
  const all = new Set([...platformEnvNames, ...known]);
  return Object.keys(env)
    .filter((name) => name.startsWith('KZR_') && !all.has(name))
    .sort();
}
