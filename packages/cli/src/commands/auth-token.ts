/**
 * `kzr auth token --name <name> --role <role>`: makes a bearer token (32 random bytes,
 * base64url) and prints it with the entry that grants it `role` in the access file
 * (`KZR_AUTH_TOKENS_FILE`, see SECURITY.md). The file stores only the token's sha256: keep the
 * token itself in the caller's secret (`KZR_AUTH_TOKEN` or `KZR_AUTH_TOKEN_FILE`).
 * `--token-file` hashes an existing token instead.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { hashToken, type Role, roleOrder } from '@kzr/platform';

import { parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { usage } from './auth-token.usage.js';

/** Runs the command. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const name = requireFlag(values, 'name');
  const role = requireFlag(values, 'role') as Role;
  if (!roleOrder.includes(role)) throw new UsageError('--role', `expected one of ${roleOrder.join(', ')}, got ${role}`);
  let token: string;
  if (typeof values['token-file'] === 'string') {
    const file = values['token-file'];
    token = (
      await readFile(file, 'utf8').catch(() => {
        throw new UsageError('--token-file', `cannot read ${file}`);
      })
    ).trim();
    if (token === '' || /\s/.test(token)) throw new UsageError('--token-file', 'expected one token without spaces');
  } else {
    token = randomBytes(32).toString('base64url');
  }
  printJson({ token, entry: { name, sha256: hashToken(token), role } });
  return 0;
}
