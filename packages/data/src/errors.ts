/**
 * Failure modes of `@kzr/data`. The package sits on the pure core and cannot import
 * `@kzr/platform`, so its errors follow the platform's shape: a `kind` (`'invalid'` for bad input,
 * `'unavailable'` for a network failure worth retrying), `retryable`, and, for bad input, a
 * `field` naming what is wrong. The CLI maps `kind: 'invalid'` to exit code 2 without knowing
 * these classes.
 */

/** A file does not follow its format (npy, npz/zip, tar), or asks for something unsupported. */
export class DataFormatError extends Error {
  /** Always `'invalid'`: the same file fails again. */
  readonly kind = 'invalid' as const;
  /** Never retryable. */
  readonly retryable = false;
  /** The file as the caller named it (`<buffer>` when there was none). */
  readonly file: string;
  /** What is wrong inside it, for example `arr_0.npy: header.descr` or `zip.centralDirectory`. */
  readonly field: string;

  constructor(file: string, field: string, problem: string, options?: ErrorOptions) {
    super(`${file}: ${field}: ${problem}`, options);
    this.name = 'DataFormatError';
    this.file = file;
    this.field = field;
  }

  /** True for a {@link DataFormatError} (also across module copies, by name and kind). */
  static is(err: unknown): err is DataFormatError {
    return (
      err instanceof DataFormatError ||
      (err instanceof Error && err.name === 'DataFormatError' && (err as { kind?: unknown }).kind === 'invalid')
    );
  }
}

/** An option or argument is outside what a data function accepts (a page count of 0, an unknown dataset). */
export class DataArgumentError extends Error {
  /** Always `'invalid'`. */
  readonly kind = 'invalid' as const;
  /** Never retryable. */
  readonly retryable = false;
  /** The offending option, for example `options.pagesPerBook`. */
  readonly field: string;

  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(`${field}: ${problem}`, options);
    this.name = 'DataArgumentError';
    this.field = field;
  }

  /** True for a {@link DataArgumentError}. */
  static is(err: unknown): err is DataArgumentError {
    return err instanceof DataArgumentError || (err instanceof Error && err.name === 'DataArgumentError');
  }
}

/** Which check a downloaded file failed. */
export const IntegrityCheck = {
  Size: 'size',
  Sha256: 'sha256',
  Md5: 'md5',
} as const;
export type IntegrityCheck = (typeof IntegrityCheck)[keyof typeof IntegrityCheck];

/**
 * A downloaded file differs from the table of expected sizes and digests. The download is
 * discarded (a resumed download would only repeat the damage); pass `allowMismatch` to keep it.
 */
export class IntegrityError extends Error {
  /** `'invalid'`: downloading the same bytes again fails the same way. */
  readonly kind = 'invalid' as const;
  /** Not retryable as is; a different mirror may help. */
  readonly retryable = false;
  /** The file that failed, by its table name (for example `k49-test-imgs.npz`). */
  readonly field: string;
  /** The check that failed. */
  readonly check: IntegrityCheck;
  /** The expected value (bytes as a decimal string, digests as lowercase hex). */
  readonly expected: string;
  /** The value found. */
  readonly actual: string;
  /** Where the bytes came from. */
  readonly url: string;

  constructor(file: string, check: IntegrityCheck, expected: string, actual: string, url: string) {
    super(
      `${file}: ${check} mismatch: expected ${expected}, got ${actual} (from ${url}); ` +
        'the download was discarded; use another mirror, or pass allowMismatch to keep it',
    );
    this.name = 'IntegrityError';
    this.field = file;
    this.check = check;
    this.expected = expected;
    this.actual = actual;
    this.url = url;
  }

  /** True for an {@link IntegrityError}. */
  static is(err: unknown): err is IntegrityError {
    return err instanceof IntegrityError || (err instanceof Error && err.name === 'IntegrityError');
  }
}

/** The HTTP transfer failed (connection lost, HTTP error status). A retry resumes where it stopped. */
export class DownloadError extends Error {
  /** `'unavailable'`: the mirror may answer later. */
  readonly kind = 'unavailable' as const;
  /** True unless the server answered with a 4xx status other than 408/429. */
  readonly retryable: boolean;
  /** The URL asked for. */
  readonly url: string;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;

  constructor(url: string, message: string, options?: ErrorOptions & { status?: number }) {
    super(`${url}: ${message}`, options);
    this.name = 'DownloadError';
    this.url = url;
    this.status = options?.status;
    const status = options?.status;
    this.retryable = status === undefined || status >= 500 || status === 408 || status === 429;
  }

  /** True for a {@link DownloadError}. */
  static is(err: unknown): err is DownloadError {
    return err instanceof DownloadError || (err instanceof Error && err.name === 'DownloadError');
  }
}
