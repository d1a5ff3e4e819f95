export { compileAdapterConfig, defaultDataDir, openAdapters, openStore } from './adapters.js';
export {
  deadLetterSubject,
  decodeEvent,
  encodeEvent,
  EventSubject,
  eventSchemaVersion,
  isDeadLetterSubject,
  isEventSubject,
} from './bus/events.js';
export { MemoryBus } from './bus/memory-bus.js';
export { NatsBus } from './bus/nats-bus.js';
export { buildJobManifest, KubernetesJobRunner } from './jobs/kubernetes-job-runner.js';
export { LocalJobRunner } from './jobs/local-job-runner.js';
export { checkJobSpec, JobPhase, runLabel } from './jobs/types.js';
export { FsStore } from './store/fs-store.js';
export { shutdownTelemetry } from './telemetry/global.js';
export { S3Store } from './store/s3-store.js';
export { compileServerConfig, compileServiceConfig, LogLevel, readPort } from './config.js';
export { readBool, readBytes, readChoice, readInt, readString } from './env.js';
export {
  ConfigError,
  ConflictError,
  ErrorKind,
  errorKindOf,
  isConfigError,
  IntegrityError,
  isValidationError,
  KzrError,
  NotFoundError,
  NotReadyError,
  ValidationError,
} from './errors.js';
export { implement, toServiceError } from './grpc/handlers.js';
export { runServiceMain } from './grpc/main.js';
export { serve } from './grpc/serve.js';
export { GrpcServer } from './grpc/server.js';
export { Lifecycle } from './lifecycle.js';
export { createLogger } from './logger.js';

export type { AdapterConfig, Adapters, BusConfig, JobsConfig, StoreConfig } from './adapters.js';
export type { DeadLetter, EventMap, KzrEvent } from './bus/events.js';
export type { MemoryBusOptions } from './bus/memory-bus.js';
export type { NatsBusOptions } from './bus/nats-bus.js';
export type {
  Bus,
  BusMessage,
  ConsumerOptions,
  DeadLetterMessage,
  EventMessage,
  MessageHandler,
  PublishOptions,
  PublishResult,
  RequestHandler,
  RequestOptions,
  Subscription,
} from './bus/types.js';
export type { KubernetesJobRunnerOptions } from './jobs/kubernetes-job-runner.js';
export type { LocalJobRunnerOptions } from './jobs/local-job-runner.js';
export type { JobResources, JobRunner, JobSpec, JobStatus, WaitOptions } from './jobs/types.js';
export type { FsStoreOptions } from './store/fs-store.js';
export type { S3StoreOptions } from './store/s3-store.js';
export type { ByteRange, GetOptions, ObjectInfo, PutBody, PutOptions, PutResult, Store } from './store/types.js';
export type { ServerConfig, ServiceConfig } from './config.js';
export type { ServiceMainOptions } from './grpc/main.js';
export type { Env } from './env.js';
export type { CallContext, HandlerFor, Handlers } from './grpc/handlers.js';
export type { ServeOptions, ServerPlan, Serving } from './grpc/serve.js';
export type { GrpcServerOptions, GrpcServiceRegistration, ServingStatus } from './grpc/server.js';
export type { DrainStep, LifecycleState } from './lifecycle.js';
export type { LogFields, Logger, LoggerOptions } from './logger.js';
