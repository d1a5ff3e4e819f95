/**
 * The `kzr.v1.Inference` gRPC service. Its methods arrive with their issues; until then grpc-js
 * answers them UNIMPLEMENTED, while health and reflection already report the service.
 */
import { InferenceService } from '@kzr/api/kzr/v1/inference';
import { type GrpcServiceRegistration, implement, type Logger } from '@kzr/platform';

/** Fully qualified service name, as health and reflection report it. */
export const inferenceServiceName = 'kzr.v1.Inference';

/** Builds the service registration for a gRPC server. */
export function createInferenceService(logger: Logger): GrpcServiceRegistration {
  return {
    name: inferenceServiceName,
    definition: InferenceService,
    implementation: implement(InferenceService, {}, logger),
  };
}
