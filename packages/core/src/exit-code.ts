/**
 * How a kzr process (the `kzr` command, a standalone service's main) ends on a thrown error. The
 * exit code and what is printed follow the error's
 * {@link ErrorKind}, never its message: bad input or configuration is the user's to fix (exit 2,
 * the one-line `field: problem` message); another kzr failure (not found, unavailable, …) exits 1
 * with its message; anything else is a bug and exits 1 with its stack.
 */
import { ErrorKind, KzrError } from './errors.js';

/** Exit code of each kind of failure. */
const exitCodeOfKind: Record<ErrorKind, number> = {
  [ErrorKind.Invalid]: 2,
  [ErrorKind.Config]: 2,
  [ErrorKind.NotFound]: 1,
  [ErrorKind.Unavailable]: 1,
  [ErrorKind.Deadline]: 1,
  [ErrorKind.Cancelled]: 1,
  [ErrorKind.Conflict]: 1,
  [ErrorKind.ResourceExhausted]: 1,
  [ErrorKind.Internal]: 1,
};

/**
 * The exit code for a thrown value: 2 for `invalid` and `config`, and for an input over a
 * configured budget (`resource-exhausted` that retrying cannot fix); 1 for everything else.
 */
export function exitCodeOf(err: unknown): number {
  if (!(err instanceof KzrError)) return 1;
  if (err.kind === ErrorKind.ResourceExhausted && !err.retryable) return 2;
  return exitCodeOfKind[err.kind];
}

/**
 * What `kzr` prints (after `kzr: `) for a thrown value: the message of a kzr error on one line
 * (control characters from the input, such as a newline in a file name, escaped), else the stack.
 */
export function failureText(err: unknown): string {
  if (err instanceof KzrError && err.kind !== ErrorKind.Internal) return escapeControlCharacters(err.message);
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\u0000`), so it prints on one line. */
export function escapeControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const short = shortEscapes[c];
    return short ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

const shortEscapes: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
