/**
 * `kzr recognize --server`'s client: TLS with `KZR_GRPC_TLS_CA_FILE` and the bearer token of
 * `KZR_AUTH_TOKEN`, against an inference server that requires both.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { InferenceService, RecognizePageRequest, RecognizePageResponse } from '@kzr/api/kzr/v1/inference';
import {
  compileGrpcClientConfig,
  createLogger,
  GrpcServer,
  hashToken,
  implement,
  plaintextClient,
} from '@kzr/platform';
import { TestPki } from '@kzr/testkit';

import { recognizeAll } from '../src/page-path.js';

const silent = createLogger({ write: () => {} });

describe('kzr recognize --server client', () => {
  it('reaches a server with TLS and auth through KZR_GRPC_TLS_CA_FILE and KZR_AUTH_TOKEN', async () => {
    await using pki = await TestPki.create();
    const tokensFile = join(pki.dir, 'tokens.json');
    await writeFile(
      tokensFile,
      JSON.stringify({ tokens: [{ name: 'cli', sha256: hashToken('cli-secret'), role: 'infer' }] }),
    );
    await using server = await GrpcServer.start({
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 1024 * 1024,
      services: [
        {
          name: 'kzr.v1.Inference',
          definition: InferenceService,
          implementation: implement(
            InferenceService,
            { recognizePage: async (request) => RecognizePageResponse.fromPartial({ pageId: request.pageId }) },
            silent,
          ),
        },
      ],
      reflectionProtoFiles: [],
      protoIncludeDirs: [],
      tls: { ...(await pki.issue('inference')), clientCaFile: undefined },
      authTokensFile: tokensFile,
      logger: silent,
    });
    const request = RecognizePageRequest.fromPartial({ pageId: 'p1' });
    const config = compileGrpcClientConfig({ KZR_GRPC_TLS_CA_FILE: pki.caFile, KZR_AUTH_TOKEN: 'cli-secret' });
    const [page] = await recognizeAll(server.endpoint, [request], config);
    assert.equal(page?.pageId, 'p1');
    await assert.rejects(
      recognizeAll(server.endpoint, [request], { ...config, token: undefined }),
      /credentials needed/,
    );
    await assert.rejects(recognizeAll(server.endpoint, [request], plaintextClient));
  });
});
