export { freePort } from '@kzr/platform';
export { checkHealth, listServicesByReflection, openHealthClient } from './grpc-clients.js';
export { KubernetesApiStandIn } from './kubernetes-api.js';
export { NatsServer } from './nats-server.js';
export { TestPki } from './pki.js';
export { firstJsonLine, runToExit, waitForExit } from './process.js';
export { S3Server } from './s3-server.js';

export type { HealthClient } from './grpc-clients.js';
export type { StandInDeletion, StandInJob } from './kubernetes-api.js';
export type { NatsServerOptions } from './nats-server.js';
export type { IssuedCertificate } from './pki.js';
export type { ExitReport } from './process.js';
export type { S3ServerOptions } from './s3-server.js';
