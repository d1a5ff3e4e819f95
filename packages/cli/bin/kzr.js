#!/usr/bin/env -S node --conditions=production
// The `kzr` command. It runs the compiled JavaScript in dist/ (what `npm run build` writes) when
// that build is current, and otherwise the TypeScript sources through tsx (slow: tsx compiles on
// every start), after one line on stderr saying why. `@kzr/*` packages resolve to dist/ only
// under node's `production` export condition and to src/ without it, so each path needs its own
// condition: the shebang, `npm run kzr` and `npm start` pass `--conditions=production`, and a
// process started with the other condition than its path needs runs kzr again as a child.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** Written by scripts/build.sh after a successful `tsc --build`, with the build's start time as mtime. */
const stamp = `${root}packages/cli/dist/.kzr-build`;

/** The newest input of any workspace's build newer than `since`, or undefined when there is none. */
function newerInput(since) {
  const newer = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs > since;
  // A directory's mtime moves when an entry is added, removed or renamed, so deletions count too.
  const walk = (dir) => {
    if (newer(dir)) return dir;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      const found = entry.isDirectory() ? walk(path) : newer(path) ? path : undefined;
      if (found) return found;
    }
    return undefined;
  };
  if (newer(`${root}tsconfig.json`)) return 'tsconfig.json';
  for (const group of ['packages', 'services']) {
    for (const name of readdirSync(`${root}${group}`)) {
      const dir = `${root}${group}/${name}`;
      for (const file of ['package.json', 'tsconfig.json']) if (newer(`${dir}/${file}`)) return `${dir}/${file}`;
      const found = existsSync(`${dir}/src`) ? walk(`${dir}/src`) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Why dist/ cannot run, or undefined when it is current. Current means: the last build succeeded
 * (the stamp exists) and no source, package.json or tsconfig changed since it started. Every
 * file's JavaScript depends only on that file (tsconfig: isolatedModules, erasableSyntaxOnly),
 * so an unchanged source has a correct dist file whatever else changed. A check of mtimes, a few
 * milliseconds for the whole tree; git sets the mtime of every file a checkout changes.
 */
function staleReason() {
  const built = statSync(stamp, { throwIfNoEntry: false });
  if (!built) return 'no build yet';
  const changed = newerInput(built.mtimeMs);
  return changed ? `${changed.slice(root.length)} changed since the last build` : undefined;
}

/** Runs this file again with or without the `production` condition; exits as the child does. */
function rerun(production) {
  if (isRerun) {
    // Only a condition spelt differently (`-C production`) gets here: stop rather than loop.
    process.stderr.write('kzr: cannot switch the production condition; pass it as --conditions=production\n');
    process.exit(1);
  }
  const execArgv = process.execArgv.filter((a) => a !== '--conditions=production');
  const args = [...execArgv, ...(production ? ['--conditions=production'] : []), fileURLToPath(import.meta.url)];
  // The IPC channel tells the child when this process dies, even by SIGKILL (see below).
  const child = spawn(process.execPath, [...args, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, KZR_RERUN: '1' },
  });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (signal) => child.kill(signal);
  for (const signal of signals) process.on(signal, forward);
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

/** Whether `@kzr/*` resolve to dist/ here; resolution fails only when dist/ is missing under the condition. */
function resolvesToDist() {
  try {
    return import.meta.resolve('@kzr/cli').includes('/dist/');
  } catch {
    return true;
  }
}

// Read once and removed, so that a kzr this one starts (a local job) decides for itself.
const isRerun = process.env.KZR_RERUN === '1';
delete process.env.KZR_RERUN;
if (isRerun && process.channel) {
  // Run again by rerun(): end with the parent however it ends (SIGKILL cannot be forwarded), so
  // that no kzr outlives the process its caller started; the channel keeps nothing alive.
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

const production = resolvesToDist();
const reason = staleReason();
if (reason === undefined) {
  if (production) await import('../dist/src/main.js');
  else rerun(true);
} else if (production) {
  rerun(false);
} else {
  process.stderr.write(`kzr: ${reason}; running the TypeScript sources with tsx (\`npm run build\` starts faster)\n`);
  if (!existsSync(`${root}packages/api/src/generated`)) {
    const gen = spawnSync('bash', [`${root}scripts/gen.sh`], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (gen.status !== 0) process.exit(gen.status ?? 1);
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
