/**
 * The `kzr` command line. Each command prints JSON to stdout; bad input prints what is wrong to
 * stderr and exits 2.
 */
import { isConfigError, isValidationError } from '@kzr/platform';

import { start } from './commands/start.js';

const usage = `usage: kzr <command> [options]

commands:
  start    run the embedded services on localhost until Ctrl-C
`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  start: () => start(),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`kzr: unknown command "${name}"\n${usage}`);
    return 2;
  }
  return command(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const usageError = isConfigError(err) || isValidationError(err);
  process.stderr.write(
    `kzr: ${usageError ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = usageError ? 2 : 1;
}
