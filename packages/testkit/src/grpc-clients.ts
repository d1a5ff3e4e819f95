/**
 * Generic gRPC clients for tests, built with proto-loader from the public protos only (as any
 * client would): `grpc.health.v1.Health/Check` and server reflection's `list_services`. Each
 * takes a platform `GrpcClientConfig` for a server with TLS or auth (plaintext by default).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { clientCredentials, type GrpcClientConfig, plaintextClient } from '@kzr/platform';
import { protoPath as healthProtoPath } from 'grpc-health-check';

const require = createRequire(import.meta.url);

interface GrpcClient extends grpc.Client {
  [method: string]: unknown;
}
type ClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => GrpcClient;

function clientFor(protoFile: string, includeDirs: string[], serviceName: string): ClientConstructor {
  const loaded = grpc.loadPackageDefinition(
    protoLoader.loadSync(protoFile, { includeDirs, keepCase: true, enums: String }),
  );
  let node: unknown = loaded;
  for (const part of serviceName.split('.')) node = (node as Record<string, unknown>)[part];
  return node as ClientConstructor;
}

/** A `grpc.health.v1.Health` client on one channel, for tests that check health many times. */
export interface HealthClient {
  /** The status `Check` reports for a service ('' = the whole server). */
  check(service?: string, deadlineMs?: number): Promise<string>;
  close(): void;
}

/** Opens a {@link HealthClient} to `endpoint`; its channel stays connected between checks. */
export function openHealthClient(endpoint: string, config: GrpcClientConfig = plaintextClient): HealthClient {
  const Health = clientFor(healthProtoPath, [], 'grpc.health.v1.Health');
  const { credentials, options } = clientCredentials(config);
  const client = new Health(endpoint, credentials, options);
  const call = client['Check'] as (
    req: { service: string },
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
  ) => void;
  return {
    check: (service = '', deadlineMs = 5000) =>
      new Promise<string>((resolve, reject) => {
        call.call(client, { service }, { deadline: Date.now() + deadlineMs }, (err, res) =>
          err ? reject(err) : resolve(res?.status ?? 'UNKNOWN'),
        );
      }),
    close: () => client.close(),
  };
}

/** The status `grpc.health.v1.Health/Check` reports for a service ('' = the whole server). */
export async function checkHealth(
  endpoint: string,
  service = '',
  deadlineMs = 5000,
  config: GrpcClientConfig = plaintextClient,
): Promise<string> {
  const health = openHealthClient(endpoint, config);
  try {
    return await health.check(service, deadlineMs);
  } finally {
    health.close();
  }
}

/** The services a server lists through reflection (v1). */
export async function listServicesByReflection(
  endpoint: string,
  deadlineMs = 5000,
  config: GrpcClientConfig = plaintextClient,
): Promise<string[]> {
  const protoDir = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
  const Reflection = clientFor(
    join(protoDir, 'grpc/reflection/v1/reflection.proto'),
    [protoDir],
    'grpc.reflection.v1.ServerReflection',
  );
  const { credentials, options } = clientCredentials(config);
  const client = new Reflection(endpoint, credentials, options);
  try {
    const open = client['ServerReflectionInfo'] as (
      options: grpc.CallOptions,
    ) => grpc.ClientDuplexStream<unknown, unknown>;
    const stream = open.call(client, { deadline: Date.now() + deadlineMs });
    const response = new Promise<string[]>((resolve, reject) => {
      stream.once('data', (message) => {
        const services = (message as { list_services_response?: { service: Array<{ name: string }> } })
          .list_services_response;
        resolve((services?.service ?? []).map((s) => s.name));
      });
      stream.once('error', reject);
    });
    stream.write({ list_services: '' });
    stream.end();
    return await response;
  } finally {
    client.close();
  }
}
