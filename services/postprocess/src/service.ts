/**
 * The `kzr.v1.Postprocess` gRPC service. Its methods arrive with their issues; until then grpc-js
 * answers them UNIMPLEMENTED, while health and reflection already report the service.
 */
import { PostprocessService } from '@kzr/api/kzr/v1/postprocess';
import { type GrpcServiceRegistration, implement, type Logger } from '@kzr/platform';

/** Fully qualified service name, as health and reflection report it. */
export const postprocessServiceName = 'kzr.v1.Postprocess';

/** Builds the service registration for a gRPC server. */
export function createPostprocessService(logger: Logger): GrpcServiceRegistration {
  return {
    name: postprocessServiceName,
    definition: PostprocessService,
    implementation: implement(PostprocessService, {}, logger),
  };
}
