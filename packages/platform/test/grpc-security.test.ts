import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { PostprocessClient, PostprocessService, type ScoreResponse } from '@kzr/api/kzr/v1/postprocess';
import { checkHealth, type IssuedCertificate, TestPki } from '@kzr/testkit';

import {
  clientCredentials,
  compileGrpcClientConfig,
  compileServerConfig,
  ConfigError,
  createLogger,
  type GrpcClientConfig,
  GrpcServer,
  type GrpcServerOptions,
  hashToken,
  implement,
  plaintextClient,
} from '../src/index.js';

const silent = createLogger({ write: () => {} });
const okScore: ScoreResponse = { f1: 1, precision: 1, recall: 1, tp: 1, fp: 0, fn: 0 };

let pki: TestPki;
let serverCert: IssuedCertificate;
let clientCert: IssuedCertificate;

before(async () => {
  pki = await TestPki.create();
  serverCert = await pki.issue('server', '/CN=kzr-server/O=kzr');
  clientCert = await pki.issue('client', '/CN=kzr-cli/O=kzr');
});
after(async () => {
  await pki?.cleanup();
});

function start(options: Partial<GrpcServerOptions>): Promise<GrpcServer> {
  return GrpcServer.start({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 64 * 1024,
    services: [
      {
        name: 'kzr.v1.Postprocess',
        definition: PostprocessService,
        implementation: implement(PostprocessService, { score: async () => okScore }, silent),
      },
    ],
    reflectionProtoFiles: [kzrProtoFiles.postprocess],
    protoIncludeDirs: [protoRoot],
    logger: silent,
    ...options,
  });
}

const tlsClient = (extra: Partial<GrpcClientConfig> = {}): GrpcClientConfig => ({
  tls: { caFile: pki.caFile, certFile: undefined, keyFile: undefined },
  token: undefined,
  ...extra,
});

/** Calls Score; resolves with the status code (OK on success). */
function scoreStatus(endpoint: string, config: GrpcClientConfig): Promise<grpc.status> {
  const { credentials, options } = clientCredentials(config);
  const client = new PostprocessClient(endpoint, credentials, options);
  return new Promise<grpc.status>((resolve) =>
    client.score({ truthCsv: '', submissionCsv: '' }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err) => {
      client.close();
      resolve(err ? err.code : grpc.status.OK);
    }),
  );
}

async function writeAccessFile(name: string, content: unknown): Promise<string> {
  const file = join(pki.dir, name);
  await writeFile(file, JSON.stringify(content));
  return file;
}

describe('gRPC TLS', () => {
  it('serves TLS clients that trust its CA and refuses a plaintext client', async () => {
    await using server = await start({ tls: { ...serverCert, clientCaFile: undefined } });
    assert.equal(await scoreStatus(server.endpoint, tlsClient()), grpc.status.OK);
    assert.equal(await scoreStatus(server.endpoint, plaintextClient), grpc.status.UNAVAILABLE);
    assert.deepEqual(server.security, { tls: 'on', auth: 'none (open to every caller that reaches the port)' });
  });

  it('with a client CA (mTLS) refuses a client without a certificate and lets one with a certificate in', async () => {
    await using server = await start({ tls: { ...serverCert, clientCaFile: pki.caFile } });
    assert.equal(await scoreStatus(server.endpoint, tlsClient()), grpc.status.UNAVAILABLE);
    const withCert = tlsClient({ tls: { caFile: pki.caFile, ...clientCert } });
    assert.equal(await scoreStatus(server.endpoint, withCert), grpc.status.OK);
    assert.equal(server.security.tls, 'mtls');
  });

  it('serves a rotated certificate to new connections without a restart', async () => {
    const rotating = await pki.issue('rotating');
    await using server = await start({
      tls: { certFile: rotating.certFile, keyFile: rotating.keyFile, clientCaFile: undefined },
      securityRefreshMs: 100,
    });
    const servedSerial = async (): Promise<string> => {
      let serial = '';
      const credentials = grpc.credentials.createSsl(readFileSync(pki.caFile), null, null, {
        checkServerIdentity: (_host, certificate) => {
          serial = certificate.serialNumber;
          return undefined;
        },
      });
      const client = new PostprocessClient(server.endpoint, credentials);
      await new Promise<void>((resolve, reject) =>
        client.score({ truthCsv: '', submissionCsv: '' }, (err) => (err ? reject(err) : resolve())),
      );
      client.close();
      return serial;
    };
    assert.equal(await servedSerial(), rotating.serial);
    const renewed = await pki.issue('rotating');
    assert.notEqual(renewed.serial, rotating.serial);
    const deadline = Date.now() + 5000;
    let served = await servedSerial();
    while (served !== renewed.serial && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      served = await servedSerial();
    }
    assert.equal(served, renewed.serial);
  });

  it('refuses to start with a certificate file that is not PEM, naming the variable', async () => {
    const bad = join(pki.dir, 'not-a-cert.pem');
    await writeFile(bad, 'hello');
    assert.throws(
      () => compileServerConfig({ KZR_GRPC_TLS_CERT_FILE: bad, KZR_GRPC_TLS_KEY_FILE: serverCert.keyFile }),
      (err: unknown) => err instanceof ConfigError && err.variable === 'KZR_GRPC_TLS_CERT_FILE',
    );
    assert.throws(
      () => compileServerConfig({ KZR_GRPC_TLS_CERT_FILE: serverCert.certFile }),
      (err: unknown) => err instanceof ConfigError && err.variable === 'KZR_GRPC_TLS_KEY_FILE',
    );
  });
});

describe('gRPC authentication', () => {
  it('answers UNAUTHENTICATED without a token or with an unknown one, PERMISSION_DENIED with too small a role', async () => {
    const tokensFile = await writeAccessFile('tokens.json', {
      tokens: [
        { name: 'reader', sha256: hashToken('read-secret'), role: 'read' },
        { name: 'pages', sha256: hashToken('infer-secret'), role: 'infer' },
      ],
    });
    await using server = await start({ authTokensFile: tokensFile });
    const as = (token: string | undefined): GrpcClientConfig => ({ tls: undefined, token });
    assert.equal(await scoreStatus(server.endpoint, as(undefined)), grpc.status.UNAUTHENTICATED);
    assert.equal(await scoreStatus(server.endpoint, as('guess')), grpc.status.UNAUTHENTICATED);
    assert.equal(await scoreStatus(server.endpoint, as('read-secret')), grpc.status.PERMISSION_DENIED);
    assert.equal(await scoreStatus(server.endpoint, as('infer-secret')), grpc.status.OK);
    // Health needs `read`; every token has it, no token does not.
    assert.equal(await checkHealth(server.endpoint, '', 5000, as('read-secret')), 'SERVING');
    await assert.rejects(checkHealth(server.endpoint, '', 5000, as(undefined)), { code: grpc.status.UNAUTHENTICATED });
  });

  it('maps a client certificate subject to its role, and a token still wins over it', async () => {
    const tokensFile = await writeAccessFile('subjects.json', {
      tokens: [{ name: 'admin', sha256: hashToken('admin-secret'), role: 'admin' }],
      subjects: [{ subject: 'O=kzr,CN=kzr-cli', role: 'read' }],
    });
    await using server = await start({ tls: { ...serverCert, clientCaFile: pki.caFile }, authTokensFile: tokensFile });
    const mtls = tlsClient({ tls: { caFile: pki.caFile, ...clientCert } });
    assert.equal(await checkHealth(server.endpoint, '', 5000, mtls), 'SERVING');
    assert.equal(await scoreStatus(server.endpoint, mtls), grpc.status.PERMISSION_DENIED);
    assert.equal(await scoreStatus(server.endpoint, { ...mtls, token: 'admin-secret' }), grpc.status.OK);
    // A certificate the CA signed, whose subject the file does not list, has no role.
    const stranger = await pki.issue('stranger');
    const unknown = tlsClient({ tls: { caFile: pki.caFile, ...stranger } });
    assert.equal(await scoreStatus(server.endpoint, unknown), grpc.status.PERMISSION_DENIED);
  });

  it('reads the access file again when it changes: a revoked token is refused without a restart', async () => {
    const tokensFile = await writeAccessFile('rotate.json', {
      tokens: [{ name: 'old', sha256: hashToken('old-secret'), role: 'infer' }],
    });
    await using server = await start({ authTokensFile: tokensFile, securityRefreshMs: 100 });
    assert.equal(await scoreStatus(server.endpoint, { tls: undefined, token: 'old-secret' }), grpc.status.OK);
    await writeAccessFile('rotate.json', { tokens: [{ name: 'new', sha256: hashToken('new-secret'), role: 'infer' }] });
    const deadline = Date.now() + 5000;
    while (
      (await scoreStatus(server.endpoint, { tls: undefined, token: 'old-secret' })) === grpc.status.OK &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(
      await scoreStatus(server.endpoint, { tls: undefined, token: 'old-secret' }),
      grpc.status.UNAUTHENTICATED,
    );
    assert.equal(await scoreStatus(server.endpoint, { tls: undefined, token: 'new-secret' }), grpc.status.OK);
  });

  it('refuses an access file with a bad entry, naming the variable and the entry', async () => {
    const file = await writeAccessFile('bad.json', { tokens: [{ name: 'x', sha256: hashToken('x'), role: 'root' }] });
    assert.throws(
      () => compileServerConfig({ KZR_AUTH_TOKENS_FILE: file }),
      (err: unknown) =>
        err instanceof ConfigError && err.variable === 'KZR_AUTH_TOKENS_FILE' && /tokens\[0\]\.role/.test(err.message),
    );
  });

  it('binds another interface than loopback only with auth configured or KZR_INSECURE=1', async () => {
    assert.throws(
      () => compileServerConfig({ KZR_GRPC_HOST: '0.0.0.0' }),
      (err: unknown) => err instanceof ConfigError && err.variable === 'KZR_GRPC_HOST',
    );
    assert.equal(compileServerConfig({ KZR_GRPC_HOST: '0.0.0.0', KZR_INSECURE: '1' }).grpcHost, '0.0.0.0');
    const tokensFile = await writeAccessFile('empty.json', {});
    assert.equal(compileServerConfig({ KZR_GRPC_HOST: '::', KZR_AUTH_TOKENS_FILE: tokensFile }).grpcHost, '::');
    assert.equal(compileServerConfig({ KZR_GRPC_HOST: 'localhost' }).grpcHost, 'localhost');
  });

  it('compiles a client token from KZR_AUTH_TOKEN or KZR_AUTH_TOKEN_FILE', async () => {
    const file = join(pki.dir, 'token');
    await writeFile(file, 'from-file\n');
    assert.equal(compileGrpcClientConfig({ KZR_AUTH_TOKEN: 'direct' }).token, 'direct');
    assert.equal(compileGrpcClientConfig({ KZR_AUTH_TOKEN_FILE: file }).token, 'from-file');
    assert.equal(compileGrpcClientConfig({}).token, undefined);
    assert.equal(compileGrpcClientConfig({ KZR_GRPC_TLS_CA_FILE: pki.caFile }).tls?.caFile, pki.caFile);
  });
});
