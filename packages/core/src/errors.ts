/**
 * Failure modes of the pure core. Core cannot import `@kzr/platform`, so its errors follow the
 * platform's shape instead: a `kind` (`'invalid'` for bad input) and a `field` naming the
 * offending value. The gRPC interceptor and the CLI map errors by that shape, so a
 * {@link ParseError} becomes INVALID_ARGUMENT or exit code 2 without either knowing this class.
 */

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
export class ParseError extends Error {
  /** Always `'invalid'`: the same input fails again. */
  readonly kind = 'invalid' as const;
  /** Never retryable. */
  readonly retryable = false;
  /** The offending field. */
  readonly field: string;
  /** The file, or `<input>`. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line: number | undefined;

  constructor(location: ParseErrorLocation, problem: string, options?: ErrorOptions) {
    const file = location.file ?? '<input>';
    const where = location.line === undefined ? file : `${file}:${location.line}`;
    super(`${where}: ${location.field}: ${problem}`, options);
    this.name = 'ParseError';
    this.field = location.field;
    this.file = file;
    this.line = location.line;
  }

  /** True for a {@link ParseError} (also across module copies, by name and kind). */
  static is(err: unknown): err is ParseError {
    return (
      err instanceof ParseError ||
      (err instanceof Error && err.name === 'ParseError' && (err as { kind?: unknown }).kind === 'invalid')
    );
  }
}

/**
 * An argument to a core function is outside what it accepts (a page id without a book where a
 * book is needed, a negative count, an empty ensemble). Same shape as a validation error.
 */
export class InvalidArgumentError extends Error {
  /** Always `'invalid'`. */
  readonly kind = 'invalid' as const;
  /** Never retryable. */
  readonly retryable = false;
  /** The offending argument, for example `pageId` or `options.valBook`. */
  readonly field: string;

  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(`${field}: ${problem}`, options);
    this.name = 'InvalidArgumentError';
    this.field = field;
  }
}
