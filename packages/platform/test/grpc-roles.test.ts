import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoRoot } from '@kzr/api/proto-root';
import { protoPath as healthProtoPath } from 'grpc-health-check';

import {
  createLogger,
  GrpcServer,
  type GrpcServiceRegistration,
  hashToken,
  methodRoles,
  type Role,
  roleIncludes,
  roleOrder,
} from '../src/index.js';

const silent = createLogger({ write: () => {} });
const require = createRequire(import.meta.url);
const reflectionProtoDir = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');

/** Every `.proto` under `proto/`, relative to it. */
function kzrProtoFilesOnDisk(dir = protoRoot): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? kzrProtoFilesOnDisk(join(dir, entry.name))
      : entry.name.endsWith('.proto')
        ? [relative(protoRoot, join(dir, entry.name))]
        : [],
  );
}

type Method = protoLoader.MethodDefinition<object, object>;

/** Every method of every service in the descriptors, by service. */
function servicesOf(definition: protoLoader.PackageDefinition): Map<string, Method[]> {
  const services = new Map<string, Method[]>();
  for (const [name, node] of Object.entries(definition)) {
    if (!('format' in node) && !('type' in node))
      services.set(name, Object.values(node as protoLoader.ServiceDefinition));
  }
  return services;
}

const kzrServices = servicesOf(protoLoader.loadSync(kzrProtoFilesOnDisk(), { includeDirs: [protoRoot] }));
const platformServices = servicesOf(
  protoLoader.loadSync(
    [
      healthProtoPath,
      join(reflectionProtoDir, 'grpc/reflection/v1/reflection.proto'),
      join(reflectionProtoDir, 'grpc/reflection/v1alpha/reflection.proto'),
    ],
    { includeDirs: [reflectionProtoDir] },
  ),
);
const everyMethod = [...kzrServices.values(), ...platformServices.values()].flat();

const passBytes = (b: Buffer): Buffer => b;

/** A service that answers every method with one empty message, whatever its real types. */
function echoService(name: string, methods: readonly Method[]): GrpcServiceRegistration {
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of methods) {
    const key = method.originalName ?? method.path;
    definition[key] = {
      path: method.path,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: passBytes,
      requestDeserialize: passBytes,
      responseSerialize: passBytes,
      responseDeserialize: passBytes,
    };
    implementation[key] = method.responseStream
      ? (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          call.write(Buffer.alloc(0));
          call.end();
        }
      : (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.alloc(0));
  }
  return { name, definition, implementation };
}

/** Calls `method` with an empty message; resolves OK once a response arrives, else the status code. */
function call(client: grpc.Client, method: Method, token: string | undefined): Promise<grpc.status> {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  const options = { deadline: Date.now() + 5000 };
  const empty = Buffer.alloc(0);
  return new Promise((resolve) => {
    const done = (err: grpc.ServiceError | null): void => resolve(err ? err.code : grpc.status.OK);
    if (!method.responseStream) {
      const callback = (err: grpc.ServiceError | null): void => done(err);
      if (method.requestStream) {
        client.makeClientStreamRequest(method.path, passBytes, passBytes, metadata, options, callback).end();
      } else {
        client.makeUnaryRequest(method.path, passBytes, passBytes, empty, metadata, options, callback);
      }
      return;
    }
    const stream = method.requestStream
      ? client.makeBidiStreamRequest(method.path, passBytes, passBytes, metadata, options)
      : client.makeServerStreamRequest(method.path, passBytes, passBytes, empty, metadata, options);
    if (method.requestStream) (stream as grpc.ClientDuplexStream<Buffer, Buffer>).end(empty);
    // Health's Watch never ends by itself: the first message is the answer.
    stream.once('data', () => {
      stream.cancel();
      resolve(grpc.status.OK);
    });
    stream.once('error', (err: grpc.ServiceError) => done(err));
    stream.once('end', () => done(null));
  });
}

describe('method roles', () => {
  it('name a role for every method of every service in the descriptors, and nothing else', () => {
    const described = everyMethod.map((m) => m.path).sort();
    assert.ok(described.includes('/kzr.v1.Trainer/StartRun'), 'the trainer service is described');
    const missing = described.filter((path) => !(path in methodRoles));
    assert.deepEqual(missing, [], 'methods without a role in platform/src/grpc/roles.ts');
    const stale = Object.keys(methodRoles).filter((path) => !described.includes(path));
    assert.deepEqual(stale, [], 'roles of methods no .proto describes');
  });

  describe('on a server with an access file', () => {
    let dir: string;
    let server: GrpcServer;
    let client: grpc.Client;
    const tokenOf = (role: Role): string => `${role}-token`;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kzr-roles-'));
      const tokensFile = join(dir, 'tokens.json');
      await writeFile(
        tokensFile,
        JSON.stringify({ tokens: roleOrder.map((role) => ({ name: role, sha256: hashToken(tokenOf(role)), role })) }),
      );
      server = await GrpcServer.start({
        host: '127.0.0.1',
        port: 0,
        maxMessageBytes: 1024 * 1024,
        services: [...kzrServices].map(([name, methods]) => echoService(name, methods)),
        reflectionProtoFiles: kzrProtoFilesOnDisk(),
        protoIncludeDirs: [protoRoot],
        authTokensFile: tokensFile,
        logger: silent,
      });
      client = new grpc.Client(server.endpoint, grpc.credentials.createInsecure());
    });
    after(async () => {
      client?.close();
      await server?.shutdown(0);
      await rm(dir, { recursive: true, force: true });
    });

    it('lets each role call exactly the methods of its role and the roles below it', async () => {
      const wrong: string[] = [];
      for (const method of everyMethod) {
        const needed = methodRoles[method.path]!;
        const anonymous = await call(client, method, undefined);
        if (anonymous !== grpc.status.UNAUTHENTICATED) wrong.push(`${method.path} without a token: ${anonymous}`);
        for (const role of roleOrder) {
          const got = await call(client, method, tokenOf(role));
          const expected = roleIncludes(role, needed) ? grpc.status.OK : grpc.status.PERMISSION_DENIED;
          if (got !== expected)
            wrong.push(`${method.path} as ${role}: ${grpc.status[got]}, expected ${grpc.status[expected]}`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  });
});
