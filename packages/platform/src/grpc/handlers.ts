/**
 * The error interceptor of the gRPC server kit. Handlers are plain async functions (or async
 * generators for server streams) that throw kzr errors; this module adapts them to grpc-js and
 * maps every failure to one status in one place:
 * invalid -> INVALID_ARGUMENT (the field in the message and in `kzr-field` metadata),
 * not-found -> NOT_FOUND, unavailable -> UNAVAILABLE, deadline -> DEADLINE_EXCEEDED,
 * cancelled -> CANCELLED, resource-exhausted -> RESOURCE_EXHAUSTED, anything else -> INTERNAL (logged, details not leaked).
 *
 * grpc-js turns a handler's callback error into a status before its own server interceptors
 * run, which loses the error's class; so the mapping wraps the handlers instead.
 */
import * as grpc from '@grpc/grpc-js';
import { ErrorKind, errorKindOf, KzrError } from '@kzr/core';

import type { Logger } from '../logger.js';

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** Aborted when the client cancels or the call's deadline passes. */
  readonly signal: AbortSignal;
  /** The client's deadline, if it set one. */
  readonly deadline: Date | undefined;
  /** Request metadata. */
  readonly metadata: grpc.Metadata;
  /** The grpc-js call, for `{ parent: ctx.call }` when calling another service (deadline propagation). */
  readonly call: ServerCall;
}

type Method = grpc.MethodDefinition<unknown, unknown>;
/** Any server-side call object of grpc-js. */
export type ServerCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;
type RequestOf<M> = M extends { requestDeserialize: (b: Buffer) => infer Q } ? Q : never;
type ResponseOf<M> = M extends { responseSerialize: (v: infer R) => Buffer } ? R : never;

/** The handler shape for a method, chosen by its streaming flags. */
export type HandlerFor<M> = M extends { requestStream: false; responseStream: false }
  ? (request: RequestOf<M>, ctx: CallContext) => Promise<ResponseOf<M>>
  : M extends { requestStream: false; responseStream: true }
    ? (request: RequestOf<M>, ctx: CallContext) => AsyncIterable<ResponseOf<M>>
    : M extends { requestStream: true; responseStream: false }
      ? (requests: AsyncIterable<RequestOf<M>>, ctx: CallContext) => Promise<ResponseOf<M>>
      : (requests: AsyncIterable<RequestOf<M>>, ctx: CallContext) => AsyncIterable<ResponseOf<M>>;

/** Handlers for some or all methods of a ts-proto service definition; missing ones answer UNIMPLEMENTED. */
export type Handlers<D> = { [K in keyof D]?: HandlerFor<D[K]> };

const statusOfKind: Record<ErrorKind, grpc.status> = {
  invalid: grpc.status.INVALID_ARGUMENT,
  'not-found': grpc.status.NOT_FOUND,
  unavailable: grpc.status.UNAVAILABLE,
  deadline: grpc.status.DEADLINE_EXCEEDED,
  cancelled: grpc.status.CANCELLED,
  conflict: grpc.status.ALREADY_EXISTS,
  'resource-exhausted': grpc.status.RESOURCE_EXHAUSTED,
  config: grpc.status.FAILED_PRECONDITION,
  internal: grpc.status.INTERNAL,
};

/**
 * Maps a thrown value to the status a client sees, by the {@link KzrError}'s `kind`; its message
 * (which names the field) becomes the details and its `field` the `kzr-field` metadata. Anything
 * else, and `internal` errors, are logged and answered INTERNAL without details.
 */
export function toServiceError(err: unknown, logger: Logger, method: string): grpc.ServiceError {
  const kind = errorKindOf(err);
  const metadata = new grpc.Metadata();
  let details = 'internal error';
  if (err instanceof KzrError && kind !== ErrorKind.Internal) {
    details = err.message;
    if (err.field !== undefined) metadata.set('kzr-field', err.field);
  } else {
    logger.error('handler failed', { method, err });
  }
  return Object.assign(new Error(details), { code: statusOfKind[kind], details, metadata });
}

/** The kinds a client reads back from a status; other statuses (INTERNAL, UNKNOWN, ...) are `internal`. */
const kindOfStatus = new Map<grpc.status, ErrorKind>(
  Object.entries(statusOfKind)
    .filter(([kind]) => kind !== ErrorKind.Config && kind !== ErrorKind.Internal)
    .map(([kind, status]) => [status, kind as ErrorKind]),
);

/**
 * The client side of {@link toServiceError}: a failed call to a kzr server as a {@link KzrError}
 * of the kind its status maps back to, with the server's `kzr-field`, so a caller (the CLI) maps
 * it like a local error. Invalid input keeps the server's `field: problem` message; any other
 * failure is prefixed with `peer` (the address called), which is what the user needs to know.
 */
export function fromServiceError(err: grpc.ServiceError, peer: string): KzrError {
  const kind = kindOfStatus.get(err.code) ?? ErrorKind.Internal;
  const details = err.details || err.message;
  const [field] = err.metadata?.get('kzr-field') ?? [];
  return new KzrError(kind, kind === ErrorKind.Invalid ? details : `${peer}: ${details}`, {
    field: typeof field === 'string' ? field : undefined,
    cause: err,
  });
}

function contextOf(call: ServerCall): CallContext & { done(): void } {
  const controller = new AbortController();
  const onCancel = (): void => controller.abort(new KzrError(ErrorKind.Cancelled, 'the client cancelled the call'));
  // Every call kind is an EventEmitter; the union's overloads do not unify, so use the base type.
  const events = call as unknown as NodeJS.EventEmitter;
  events.on('cancelled', onCancel);
  const raw = call.getDeadline();
  const deadlineMs = raw instanceof Date ? raw.getTime() : raw;
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(deadlineMs)) {
    timer = setTimeout(
      () => controller.abort(new KzrError(ErrorKind.Deadline, 'the call passed its deadline')),
      Math.max(0, deadlineMs - Date.now()),
    );
  }
  return {
    signal: controller.signal,
    deadline: Number.isFinite(deadlineMs) ? new Date(deadlineMs) : undefined,
    metadata: call.metadata,
    call,
    done: () => {
      clearTimeout(timer);
      events.removeListener('cancelled', onCancel);
    },
  };
}

/** Writes to a server stream, waiting for `drain` when the transport pushes back. */
async function writeAll(
  call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  messages: AsyncIterable<unknown>,
  signal: AbortSignal,
): Promise<void> {
  for await (const message of messages) {
    signal.throwIfAborted();
    if (!call.write(message)) {
      // A client that cancels never drains; the abort ends the wait (and the handler's generator).
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          call.off('drain', onDrain);
          reject(signal.reason);
        };
        const onDrain = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        call.once('drain', onDrain);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

/**
 * The requests of a client or bidirectional stream. A plain `for await` over the call would
 * destroy the whole Duplex when the reads end, and every response after that would be lost.
 */
async function* requestsOf(
  call: grpc.ServerReadableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
): AsyncIterable<unknown> {
  for await (const request of call.iterator({ destroyOnReturn: false })) yield decoded(request);
}

/** What {@link tolerantDefinition}'s deserializers give for bytes that are not the request message. */
class UndecodableRequest {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/** The request, or INVALID_ARGUMENT for one that could not be decoded. */
function decoded(request: unknown): unknown {
  if (request instanceof UndecodableRequest) {
    const problem = request.error instanceof Error ? request.error.message : String(request.error);
    throw new KzrError(ErrorKind.Invalid, `request: cannot be decoded: ${problem}`, { field: 'request' });
  }
  return request;
}

/**
 * A service definition whose request deserializers never throw. grpc-js answers a request it
 * cannot decode (an int64 above 2^53, a bad wire type) INTERNAL before any handler runs; with
 * this the handler's adapter answers INVALID_ARGUMENT with the decoder's reason instead.
 */
export function tolerantDefinition<D extends grpc.ServiceDefinition>(definition: D): D {
  return Object.fromEntries(
    Object.entries(definition).map(([key, method]) => {
      const decode = method.requestDeserialize;
      const requestDeserialize = (bytes: Buffer): unknown => {
        try {
          return decode(bytes);
        } catch (err) {
          return new UndecodableRequest(err);
        }
      };
      return [key, { ...method, requestDeserialize }];
    }),
  ) as D;
}

function adapt(method: Method, handler: (...args: never[]) => unknown, logger: Logger): grpc.UntypedHandleCall {
  const name = method.path;
  const fn = handler as (input: unknown, ctx: CallContext) => unknown;
  if (!method.requestStream && !method.responseStream) {
    return ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const ctx = contextOf(call);
      Promise.resolve()
        .then(() => fn(decoded(call.request), ctx) as Promise<unknown>)
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(toServiceError(err, logger, name)),
        )
        .finally(ctx.done);
    }) as grpc.handleUnaryCall<unknown, unknown>;
  }
  if (!method.requestStream) {
    return ((call: grpc.ServerWritableStream<unknown, unknown>) => {
      const ctx = contextOf(call);
      Promise.resolve()
        .then(() => writeAll(call, fn(decoded(call.request), ctx) as AsyncIterable<unknown>, ctx.signal))
        .then(
          () => call.end(),
          (err: unknown) => call.emit('error', toServiceError(err, logger, name)),
        )
        .finally(ctx.done);
    }) as grpc.handleServerStreamingCall<unknown, unknown>;
  }
  if (!method.responseStream) {
    return ((call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const ctx = contextOf(call);
      (fn(requestsOf(call), ctx) as Promise<unknown>)
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(toServiceError(err, logger, name)),
        )
        .finally(ctx.done);
    }) as grpc.handleClientStreamingCall<unknown, unknown>;
  }
  return ((call: grpc.ServerDuplexStream<unknown, unknown>) => {
    const ctx = contextOf(call);
    writeAll(call, fn(requestsOf(call), ctx) as AsyncIterable<unknown>, ctx.signal)
      .then(
        () => call.end(),
        (err: unknown) => call.emit('error', toServiceError(err, logger, name)),
      )
      .finally(ctx.done);
  }) as grpc.handleBidiStreamingCall<unknown, unknown>;
}

/**
 * Builds a grpc-js implementation from async handlers, with the error interceptor around each.
 * Methods without a handler are left out, so grpc-js answers them UNIMPLEMENTED.
 */
export function implement<D extends grpc.ServiceDefinition>(
  definition: D,
  handlers: Handlers<D>,
  logger: Logger,
): grpc.UntypedServiceImplementation {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(definition)) {
    const handler = (handlers as Record<string, ((...args: never[]) => unknown) | undefined>)[key];
    if (handler) implementation[key] = adapt(method as Method, handler, logger);
  }
  return implementation;
}
