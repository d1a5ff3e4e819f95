/**
 * The `kzr` command line. Each command prints JSON to stdout; bad input prints what is wrong to
 * stderr and exits 2. Commands load lazily, so `kzr score` never pays for TensorFlow.js;
 * `kzr <command> --help` and `kzr help <command>` load only the command's usage module.
 */
import { exitCodeOf, failureText } from '@kzr/core';

import { commands, findCommand, helpOf, loadCommand } from './registry.js';

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
  return `usage: kzr <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n\`kzr <command> --help\` or \`kzr help <command>\`: its options and an example\n`;
}

async function main(argv: string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    process.stdout.write(overview());
    return first === undefined ? 2 : 0;
  }
  const wantsHelp = first === 'help';
  const found = findCommand(wantsHelp ? argv.slice(1) : argv);
  if (!found) {
    const words = (wantsHelp ? argv.slice(1) : argv).slice(0, 2).filter((w) => !w.startsWith('-'));
    process.stderr.write(`kzr: unknown command "${words.join(' ')}"\n${overview()}`);
    return 2;
  }
  // `--help` anywhere before a `--` asks for help instead of running the command.
  const end = found.args.indexOf('--');
  const flags = end === -1 ? found.args : found.args.slice(0, end);
  if (wantsHelp || flags.includes('--help') || flags.includes('-h')) {
    process.stdout.write(await helpOf(found.name));
    return 0;
  }
  return (await loadCommand(found.name)).run(found.args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`kzr: ${failureText(err)}\n`);
  process.exitCode = exitCodeOf(err);
}
