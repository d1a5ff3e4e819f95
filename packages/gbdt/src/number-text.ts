/** Number spellings LightGBM reads and writes, shared by the model.txt reader and the CSV table reader. */

/** `Infinity` / `-Infinity` for LightGBM's spellings of them (`inf`, `+inf`, `infinity`, any case), else undefined. */
export function parseInfinity(token: string): number | undefined {
  switch (token.toLowerCase()) {
    case 'inf':
    case '+inf':
    case 'infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}
