/**
 * Failure modes of `@kzr/data`. Each extends core's {@link KzrError}: bad files and options are
 * `invalid` with a `field` naming what is wrong (the CLI exits 2), a failed transfer is
 * `unavailable` and retryable. A download that fails its size or digest check throws core's
 * {@link IntegrityError}.
 */
import { ErrorKind, InvalidArgumentError, KzrError } from '@kzr/core';

/** A file does not follow its format (npy, npz/zip, tar), or asks for something unsupported. */
export class DataFormatError extends KzrError {
  /** What is wrong inside it, for example `arr_0.npy: header.descr` or `zip.centralDirectory`. */
  declare readonly field: string;
  /** The file as the caller named it (`<buffer>` when there was none). */
  readonly file: string;

  constructor(file: string, field: string, problem: string, options?: ErrorOptions) {
    super(ErrorKind.Invalid, `${file}: ${field}: ${problem}`, { ...options, field });
    this.name = 'DataFormatError';
    this.file = file;
  }
}

/**
 * A file declares more than a configured budget allows (decompressed bytes of an archive),
 * refused before the work; `resource-exhausted` and not retryable (the CLI exits 2).
 */
export class DataLimitError extends KzrError {
  declare readonly field: string;
  /** The limit, as the caller sets it, for example `--max-bytes`. */
  readonly limit: string;
  readonly max: number;

  constructor(file: string, field: string, what: string, limit: string, max: number) {
    super(ErrorKind.ResourceExhausted, `${file}: ${field}: ${what} exceed ${limit} = ${max}`, {
      field,
      retryable: false,
    });
    this.name = 'DataLimitError';
    this.limit = limit;
    this.max = max;
  }
}

/** An option or argument is outside what a data function accepts (a page count of 0, an unknown dataset). */
export class DataArgumentError extends InvalidArgumentError {
  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(field, problem, options);
    this.name = 'DataArgumentError';
  }
}

/** The HTTP transfer failed (connection lost, HTTP error status). A retry resumes where it stopped. */
export class DownloadError extends KzrError {
  /** The URL asked for. */
  readonly url: string;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;

  /** Retryable unless the server answered with a 4xx status other than 408/429. */
  constructor(url: string, message: string, options?: ErrorOptions & { status?: number }) {
    const status = options?.status;
    super(ErrorKind.Unavailable, `${url}: ${message}`, {
      cause: options?.cause,
      retryable: status === undefined || status >= 500 || status === 408 || status === 429,
    });
    this.name = 'DownloadError';
    this.url = url;
    this.status = status;
  }
}
