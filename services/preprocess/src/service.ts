/**
 * The `kzr.v1.Preprocess` gRPC service. Its methods arrive with their issues; until then grpc-js
 * answers them UNIMPLEMENTED, while health and reflection already report the service.
 */
import { PreprocessService } from '@kzr/api/kzr/v1/preprocess';
import { type GrpcServiceRegistration, implement, type Logger } from '@kzr/platform';

/** Fully qualified service name, as health and reflection report it. */
export const preprocessServiceName = 'kzr.v1.Preprocess';

/** Builds the service registration for a gRPC server. */
export function createPreprocessService(logger: Logger): GrpcServiceRegistration {
  return {
    name: preprocessServiceName,
    definition: PreprocessService,
    implementation: implement(PreprocessService, {}, logger),
  };
}
