/**
 * The error base every kzr package extends. An error says what went wrong in a machine-readable
 * way: its {@link ErrorKind}, the offending `field` when there is one, and whether retrying may
 * help. The gRPC error interceptor, the Bus and the CLI decide on those fields (status, nak or
 * term, exit code), never on the message text, so a new error class needs no translator.
 */

/** What kind of failure an error is; decides the gRPC status, the exit code and retry behaviour. */
export const ErrorKind = {
  /** The caller sent something invalid; retrying the same input fails again. */
  Invalid: 'invalid',
  /** A named thing does not exist. */
  NotFound: 'not-found',
  /** The thing exists but is not ready yet (loading, draining); retry later. */
  Unavailable: 'unavailable',
  /** The operation ran out of time. */
  Deadline: 'deadline',
  /** The caller cancelled. */
  Cancelled: 'cancelled',
  /** The thing to create exists already (a job name, an object that must not be overwritten). */
  Conflict: 'conflict',
  /** A bounded resource is full (a queue at its limit); retry later or send less. */
  ResourceExhausted: 'resource-exhausted',
  /** The configuration is wrong; the process cannot start. */
  Config: 'config',
  /** A bug or an unexpected failure. */
  Internal: 'internal',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** Options of every kzr error: `cause` as for `Error`, plus the offending field and a retry override. */
export interface KzrErrorOptions extends ErrorOptions {
  /** The input at fault, as the caller named it (`boxes[3].width`, `--seed`, `KZR_STORE`). */
  readonly field?: string | undefined;
  /**
   * Whether retrying the same operation later may succeed.
   * @default true for `unavailable`, `deadline` and `resource-exhausted`, false otherwise
   */
  readonly retryable?: boolean | undefined;
}

/** Base class of kzr's errors; throw a subclass that names the failure mode. */
export class KzrError extends Error {
  /** The failure mode. */
  readonly kind: ErrorKind;
  /** The input at fault, when one is; shown to clients (gRPC `kzr-field` metadata). */
  readonly field: string | undefined;
  /** True when retrying the same operation later may succeed. */
  readonly retryable: boolean;

  constructor(kind: ErrorKind, message: string, options?: KzrErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KzrError';
    this.kind = kind;
    this.field = options?.field;
    this.retryable =
      options?.retryable ??
      (kind === ErrorKind.Unavailable || kind === ErrorKind.Deadline || kind === ErrorKind.ResourceExhausted);
  }

  /** True when `err` is an instance of the class this is called on: `ParseError.is(err)`. */
  static is<T extends KzrError>(this: abstract new (...args: never[]) => T, err: unknown): err is T {
    return err instanceof this;
  }
}

/** Reads the {@link ErrorKind} of any thrown value; anything that is not a {@link KzrError} is `internal`. */
export function errorKindOf(err: unknown): ErrorKind {
  return err instanceof KzrError ? err.kind : ErrorKind.Internal;
}

/**
 * An argument or input is outside what a function accepts (a page id without a book where a
 * book is needed, a negative count, an empty ensemble). The message reads `field: problem`;
 * packages subclass it for their own validation failures.
 */
export class InvalidArgumentError extends KzrError {
  /** The offending argument, for example `pageId` or `options.valBook`. */
  declare readonly field: string;
  /** What is wrong with it, without the field: for callers that name the field their own way (a CLI flag). */
  readonly problem: string;

  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(ErrorKind.Invalid, `${field}: ${problem}`, { ...options, field });
    this.name = 'InvalidArgumentError';
    this.problem = problem;
  }
}

/** Where in a text input a problem was found. */
export interface ParseErrorLocation {
  /** File name as the caller named it; `<input>` when the text did not come from a file. */
  readonly file?: string | undefined;
  /** 1-based line number in the text, when the format is line-oriented. */
  readonly line?: number | undefined;
  /** The offending field, for example `labels[3].width` or `pages[0].detections[2].score`. */
  readonly field: string;
}

/** Text that does not follow its format. The message reads `file:line: field: problem`. */
export class ParseError extends KzrError {
  /** The offending field. */
  declare readonly field: string;
  /** The file, or `<input>`. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line: number | undefined;

  constructor(location: ParseErrorLocation, problem: string, options?: ErrorOptions) {
    const file = location.file ?? '<input>';
    const where = location.line === undefined ? file : `${file}:${location.line}`;
    // An empty field is the whole document (its top level), which the file already names.
    const at = location.field === '' ? where : `${where}: ${location.field}`;
    super(ErrorKind.Invalid, `${at}: ${problem}`, { ...options, field: location.field });
    this.name = 'ParseError';
    this.file = file;
    this.line = location.line;
  }
}

/** Which check a file or object failed. */
export const IntegrityCheck = {
  Size: 'size',
  Sha256: 'sha256',
  Md5: 'md5',
} as const;
export type IntegrityCheck = (typeof IntegrityCheck)[keyof typeof IntegrityCheck];

/** Options of an {@link IntegrityError}. */
export interface IntegrityErrorOptions extends ErrorOptions {
  /** Where the bytes came from, when they were downloaded. */
  readonly url?: string | undefined;
  /** What the caller did about it or can do, appended to the message. */
  readonly hint?: string | undefined;
}

/**
 * Bytes differ from the size or digest they were expected to have: a corrupted Store object, a
 * mirror serving the wrong file. Reading the same bytes again fails the same way, so it is not
 * retryable; the message names the object, the check, both values and, for a download, the URL.
 */
export class IntegrityError extends KzrError {
  /** The file or Store key that failed, for example `k49-test-imgs.npz` or `models/kuzushiji/v3/a.bin`. */
  declare readonly field: string;
  /** The check that failed. */
  readonly check: IntegrityCheck;
  /** The expected value (bytes as a decimal string, digests as lowercase hex). */
  readonly expected: string;
  /** The value found. */
  readonly actual: string;
  /** Where the bytes came from, when they were downloaded. */
  readonly url: string | undefined;

  constructor(field: string, check: IntegrityCheck, expected: string, actual: string, options?: IntegrityErrorOptions) {
    const from = options?.url === undefined ? '' : ` (from ${options.url})`;
    const hint = options?.hint === undefined ? '' : `; ${options.hint}`;
    super(ErrorKind.Internal, `${field}: ${check} mismatch: expected ${expected}, got ${actual}${from}${hint}`, {
      cause: options?.cause,
      field,
      retryable: false,
    });
    this.name = 'IntegrityError';
    this.check = check;
    this.expected = expected;
    this.actual = actual;
    this.url = options?.url;
  }
}
