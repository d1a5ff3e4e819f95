/** Configuration of the standalone trainer service (one Deployment in the cluster, or embedded). */
import { compileServiceConfig, ConfigError, type Env, readInt, readString, type ServiceConfig } from '@kzr/platform';

import { kzrBin } from './paths.js';

/** The trainer service's default gRPC port. */
export const defaultTrainerPort = 50054;

/** The `KZR_*` variables the trainer reads besides the platform's. */
export const trainerEnvNames: readonly string[] = Object.freeze([
  'KZR_TRAINER_JOB_COMMAND',
  'KZR_TRAINER_JOB_IMAGE',
  'KZR_TRAINER_JOB_ENV',
  'KZR_TRAINER_POLL_MS',
]);

/** The compiled trainer config. */
export interface TrainerConfig extends ServiceConfig {
  /**
   * What a phase Job runs before `phase run --run ...` (`KZR_TRAINER_JOB_COMMAND`, a JSON array
   * of strings).
   * @default this node with the production condition and `packages/cli/bin/kzr.js`
   */
  readonly jobCommand: readonly string[];
  /** Container image of the phase Jobs (`KZR_TRAINER_JOB_IMAGE`; local Jobs ignore it). @default 'kzr' */
  readonly jobImage: string;
  /**
   * Environment the phase Jobs get from the trainer's own (`KZR_TRAINER_JOB_ENV`, variable names,
   * comma-separated): the Store and Bus settings a Kubernetes Job has no other way to learn when
   * its template does not set them. Local Jobs inherit the whole environment anyway.
   * @default none
   */
  readonly jobEnv: Readonly<Record<string, string>>;
  /** How often a driven run looks for a cancel request (`KZR_TRAINER_POLL_MS`). @default 250 */
  readonly pollMs: number;
}

function readCommand(env: Env): readonly string[] | undefined {
  const text = readString(env, 'KZR_TRAINER_JOB_COMMAND');
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw new ConfigError('KZR_TRAINER_JOB_COMMAND', text, 'a JSON array of non-empty strings');
  }
  return Object.freeze(value as string[]);
}

function readJobEnv(env: Env): Readonly<Record<string, string>> {
  const names = (readString(env, 'KZR_TRAINER_JOB_ENV') ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const out: Record<string, string> = {};
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ConfigError('KZR_TRAINER_JOB_ENV', names.join(','), 'variable names, comma-separated');
    }
    const value = readString(env, name);
    if (value !== undefined) out[name] = value;
  }
  return Object.freeze(out);
}

/** Compiles the config once at start; throws a ConfigError naming a bad variable. */
export function compileTrainerConfig(env: Env): TrainerConfig {
  return Object.freeze({
    ...compileServiceConfig(env, defaultTrainerPort),
    jobCommand: readCommand(env) ?? Object.freeze([process.execPath, '--conditions=production', kzrBin]),
    jobImage: readString(env, 'KZR_TRAINER_JOB_IMAGE') ?? 'kzr',
    jobEnv: readJobEnv(env),
    pollMs: readInt(env, 'KZR_TRAINER_POLL_MS', 10, 60_000) ?? 250,
  });
}
