export { compileAdapterConfig, defaultDataDir, openAdapters, openBus, openStore } from './adapters.js';
export {
  deadLetterSubject,
  decodeEvent,
  encodeEvent,
  EventSubject,
  eventSchemaVersion,
  isDeadLetterSubject,
  isEventSubject,
} from './bus/events.js';
export { freePort } from './free-port.js';
export { platformEnvNames, unknownEnvNames } from './known-env.js';
export { machineBusFile, readMachineBus, startMachineBus } from './bus/machine-bus.js';
export { MemoryBus } from './bus/memory-bus.js';
export { natsServerBinary, NatsServerProcess } from './bus/nats-server-process.js';
export { NatsBus } from './bus/nats-bus.js';
export { ProtoJsonChecker } from './bus/proto-json.js';
export { buildJobManifest, readJobTemplate } from './jobs/job-manifest.js';
export { KubernetesJobRunner } from './jobs/kubernetes-job-runner.js';
export { LocalJobRunner } from './jobs/local-job-runner.js';
export { checkJobSpec, JobPhase, runLabel } from './jobs/types.js';
export { FsStore } from './store/fs-store.js';
export { shutdownTelemetry } from './telemetry/global.js';
export { meterInstruments } from './telemetry/instruments.js';
export { S3Store } from './store/s3-store.js';
export { compileServerConfig, isLoopbackHost, LogLevel, readPort } from './config.js';
export { readBool, readBytes, readChoice, readInt, readString, readUrl, readUrls } from './env.js';
export {
  ConfigError,
  ConflictError,
  LimitExceededError,
  NotFoundError,
  NotReadyError,
  ResourceExhaustedError,
  ValidationError,
} from './errors.js';
export { fromServiceError, implement, toServiceError } from './grpc/handlers.js';
export { GrpcServer, livenessHealthName } from './grpc/server.js';
export { AccessControl, hashToken } from './grpc/auth.js';
export { methodRoles, Role, roleIncludes, roleOrder } from './grpc/roles.js';
export { clientCredentials, compileGrpcClientConfig, plaintextClient } from './grpc/tls.js';
export { DrainPhase, drainOnSignal, Lifecycle } from './lifecycle.js';
export { compileServiceConfig } from './service/config.js';
export { runServiceMain } from './service/main.js';
export { startService } from './service/runtime.js';
export { createLogger } from './logger.js';

export type { AdapterConfig, Adapters, BusConfig, JobsConfig, OpenAdaptersOptions, StoreConfig } from './adapters.js';
export type { DeadLetter, EventMap, KzrEvent } from './bus/events.js';
export type { MachineBus } from './bus/machine-bus.js';
export type { MemoryBusOptions } from './bus/memory-bus.js';
export type { NatsServerProcessOptions } from './bus/nats-server-process.js';
export type { NatsBusOptions } from './bus/nats-bus.js';
export type {
  AnyEventMessage,
  Bus,
  BusMessage,
  ConsumerOptions,
  DeadLetterMessage,
  EventMessage,
  MessageFor,
  MessageHandler,
  PublishOptions,
  PublishResult,
  RequestHandler,
  RequestOptions,
  Subscription,
} from './bus/types.js';
export type { JobManifestOptions } from './jobs/job-manifest.js';
export type { KubernetesJobRunnerOptions } from './jobs/kubernetes-job-runner.js';
export type { LocalJobRunnerOptions } from './jobs/local-job-runner.js';
export type { JobResources, JobRunner, JobSpec, JobStatus, WaitOptions } from './jobs/types.js';
export type { FsStoreOptions } from './store/fs-store.js';
export type { S3StoreOptions } from './store/s3-store.js';
export type { ByteRange, GetOptions, ObjectInfo, PutBody, PutOptions, PutResult, Store } from './store/types.js';
export type { ServerConfig } from './config.js';
export type { ServiceConfig } from './service/config.js';
export type { ServiceMainOptions } from './service/main.js';
export type { ServiceOptions, ServiceParts, ServiceRuntime, StartServiceOptions } from './service/runtime.js';
export type { Env } from './env.js';
export type { CallContext, HandlerFor, Handlers, ServerCall } from './grpc/handlers.js';
export type { GrpcServerOptions, GrpcServiceRegistration, ServingStatus } from './grpc/server.js';
export type { GrpcClientConfig, GrpcClientTls, GrpcServerTls } from './grpc/tls.js';
export type { DrainStep, LifecycleState } from './lifecycle.js';
export type { LogFields, Logger, LoggerOptions } from './logger.js';
