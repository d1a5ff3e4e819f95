/**
 * The other services' steps of the page path (DESIGN.md "The page path"), as RecognizePage calls
 * them: PreprocessPage on the preprocess service and FinalizePage on the postprocess service,
 * over gRPC to configured endpoints. A call made inside a RecognizePage handler names the
 * server call as its parent, so the client's deadline and cancellation carry over; the trace
 * context carries over through the gRPC instrumentation (the client span starts in the handler's
 * active context). A failed call is read back as the KzrError the other service raised, so the
 * caller gets the same status and field.
 */
import * as grpc from '@grpc/grpc-js';
import { type FinalizePageRequest, type FinalizePageResponse, PostprocessClient } from '@kzr/api/kzr/v1/postprocess';
import { type PreprocessPageRequest, type PreprocessPageResponse, PreprocessClient } from '@kzr/api/kzr/v1/preprocess';
import {
  clientCredentials,
  fromServiceError,
  type GrpcClientConfig,
  plaintextClient,
  type ServerCall,
} from '@kzr/platform';

/** Where the page path's other services listen. */
export interface PagePathEndpoints {
  /** `host:port` of the preprocess service (`KZR_PREPROCESS_ENDPOINT`). */
  readonly preprocess: string;
  /** `host:port` of the postprocess service (`KZR_POSTPROCESS_ENDPOINT`). */
  readonly postprocess: string;
}

/** The two remote steps of the page path. */
export interface PagePathSteps {
  preprocessPage(request: PreprocessPageRequest, parent?: ServerCall): Promise<PreprocessPageResponse>;
  finalizePage(request: FinalizePageRequest, parent?: ServerCall): Promise<FinalizePageResponse>;
  close(): void;
}

type Unary<Q, R> = (
  request: Q,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (err: grpc.ServiceError | null, response: R) => void,
) => grpc.ClientUnaryCall;

function unary<Q, R>(method: Unary<Q, R>, peer: string, request: Q, parent?: ServerCall): Promise<R> {
  return new Promise((resolve, reject) => {
    // `parent` propagates the deadline and cancellation of the RecognizePage call (grpc.propagate.DEFAULTS).
    const options: Partial<grpc.CallOptions> = parent
      ? { parent: parent as grpc.ServerUnaryCall<unknown, unknown> }
      : {};
    method(request, new grpc.Metadata(), options, (err, response) =>
      err ? reject(fromServiceError(err, peer)) : resolve(response),
    );
  });
}

/**
 * gRPC clients of the page path's steps; one channel per endpoint, closed with
 * {@link PagePathSteps.close}. `client` gives TLS and the bearer token (the service's own
 * `grpcClient` config); plaintext without a token by default.
 */
export function grpcPagePath(
  endpoints: PagePathEndpoints,
  maxMessageBytes: number,
  client: GrpcClientConfig = plaintextClient,
): PagePathSteps {
  const { credentials, options: security } = clientCredentials(client);
  const options = {
    ...security,
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  };
  const preprocess = new PreprocessClient(endpoints.preprocess, credentials, options);
  const postprocess = new PostprocessClient(endpoints.postprocess, credentials, options);
  return {
    preprocessPage: (request, parent) =>
      unary(preprocess.preprocessPage.bind(preprocess), endpoints.preprocess, request, parent),
    finalizePage: (request, parent) =>
      unary(postprocess.finalizePage.bind(postprocess), endpoints.postprocess, request, parent),
    close: () => {
      preprocess.close();
      postprocess.close();
    },
  };
}
