/**
 * RecognizePage's calls to preprocess and postprocess carry the inference service's own client
 * settings: TLS with its CA, its certificate for mTLS, and its bearer token.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { FinalizePageRequest, FinalizePageResponse, PostprocessService } from '@kzr/api/kzr/v1/postprocess';
import { ErrorKind, KzrError } from '@kzr/core';
import { createLogger, GrpcServer, hashToken, implement, plaintextClient } from '@kzr/platform';
import { TestPki } from '@kzr/testkit';

import { grpcPagePath } from '../src/index.js';

const silent = createLogger({ write: () => {} });
let pki: TestPki;
let postprocess: GrpcServer;

before(async () => {
  pki = await TestPki.create();
  const server = await pki.issue('postprocess');
  const tokensFile = join(pki.dir, 'tokens.json');
  await writeFile(
    tokensFile,
    JSON.stringify({ tokens: [{ name: 'inference', sha256: hashToken('inference-secret'), role: 'infer' }] }),
  );
  postprocess = await GrpcServer.start({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 1024 * 1024,
    services: [
      {
        name: 'kzr.v1.Postprocess',
        definition: PostprocessService,
        implementation: implement(
          PostprocessService,
          { finalizePage: async (request) => FinalizePageResponse.fromPartial({ pageId: request.pageId }) },
          silent,
        ),
      },
    ],
    reflectionProtoFiles: [kzrProtoFiles.postprocess],
    protoIncludeDirs: [protoRoot],
    tls: { ...server, clientCaFile: pki.caFile },
    authTokensFile: tokensFile,
    logger: silent,
  });
});
after(async () => {
  await postprocess?.shutdown(0);
  await pki?.cleanup();
});

describe('the page path behind TLS and auth', () => {
  it('calls with the CA, client certificate and token of its config, and fails without them', async () => {
    const identity = await pki.issue('inference');
    const request = FinalizePageRequest.fromPartial({ pageId: 'p1' });
    const endpoints = { preprocess: postprocess.endpoint, postprocess: postprocess.endpoint };
    const secured = grpcPagePath(endpoints, 1024 * 1024, {
      tls: { caFile: pki.caFile, ...identity },
      token: 'inference-secret',
    });
    const plain = grpcPagePath(endpoints, 1024 * 1024, plaintextClient);
    try {
      const answer = await secured.finalizePage(request);
      assert.equal(answer.pageId, 'p1');
      await assert.rejects(
        plain.finalizePage(request),
        (err: unknown) => err instanceof KzrError && err.kind === ErrorKind.Unavailable,
      );
    } finally {
      secured.close();
      plain.close();
    }
  });
});
