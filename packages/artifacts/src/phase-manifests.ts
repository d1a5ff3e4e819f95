/**
 * Phase manifests: `runs/<run>/<phase>/[<model>/]manifest.json` (schema version
 * {@link phaseManifestSchemaVersion}), what one phase of a run produced. A phase writes its
 * member files first ({@link writePhaseMember}) and its manifest last
 * ({@link writePhaseManifest}), so a manifest names only complete files; the manifest's own
 * sha256 is what the phases downstream hash and what the phase's cache entry points at. Member
 * keys are relative to the manifest's folder, so a cache hit can point at another run's outputs.
 */
import { parsePhaseId, type PhaseId } from '@kzr/pipeline';
import { type PutBody, type Store, ValidationError } from '@kzr/platform';

import { checkRelativeKey, checkSegment, phaseManifestKey, runOutputPrefix } from './keys.js';
import type { FileRef } from './model-set-manifest.js';
import { checkSchemaVersion, getJson, putJson } from './schema.js';

/** Schema version of the phase manifests this code reads and writes. */
export const phaseManifestSchemaVersion = 1 as const;

/** What a phase produced. */
export interface PhaseManifest {
  readonly schemaVersion: typeof phaseManifestSchemaVersion;
  readonly run: string;
  /** The phase id (`first-train/tiny-resnet-gray32`). */
  readonly phase: PhaseId;
  /** The input hash the outputs were made from. */
  readonly inputHash: string;
  readonly createdAt: string;
  /** Output files, keys relative to the manifest's folder, each with its sha256. */
  readonly members: readonly FileRef[];
  /** Small results a person or a later phase reads without opening a member (counts, scores, epochs). */
  readonly summary: Readonly<Record<string, unknown>>;
}

/** A manifest as written: where, and the sha256 of its bytes. */
export interface WrittenPhaseManifest {
  readonly key: string;
  readonly sha256: string;
  readonly manifest: PhaseManifest;
}

/** The folder a phase of a run writes to: `runs/<run>/<phase>/[<model>/]`. */
export function phaseOutputPrefix(run: string, phase: PhaseId): string {
  const { phase: name, model } = parsePhaseId(phase);
  return runOutputPrefix(run, name, model);
}

/** The Store key of a manifest's member. */
export function phaseMemberKey(manifestKey: string, member: FileRef): string {
  return `${manifestKey.slice(0, manifestKey.lastIndexOf('/') + 1)}${checkRelativeKey('member.key', member.key)}`;
}

/** Writes one output file of a phase under its folder; returns the reference its manifest lists. */
export async function writePhaseMember(
  store: Store,
  run: string,
  phase: PhaseId,
  file: string,
  body: PutBody,
  contentType?: string,
): Promise<FileRef> {
  const key = checkRelativeKey('file', file);
  const written = await store.put(`${phaseOutputPrefix(run, phase)}${key}`, body, contentType ? { contentType } : {});
  return { key, sha256: written.sha256 };
}

/** Parses and checks a phase manifest; throws a ValidationError naming the bad field. */
export function parsePhaseManifest(value: unknown): PhaseManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('manifest', 'expected an object');
  }
  const o = value as Record<string, unknown>;
  checkSchemaVersion('manifest.schemaVersion', o.schemaVersion, phaseManifestSchemaVersion);
  if (typeof o.phase !== 'string') throw new ValidationError('manifest.phase', 'expected a phase id');
  parsePhaseId(o.phase, 'manifest.phase');
  if (typeof o.inputHash !== 'string' || !/^[0-9a-f]{64}$/.test(o.inputHash)) {
    throw new ValidationError('manifest.inputHash', 'expected 64 lowercase hex digits');
  }
  if (typeof o.createdAt !== 'string' || Number.isNaN(Date.parse(o.createdAt))) {
    throw new ValidationError('manifest.createdAt', 'expected an RFC 3339 time');
  }
  if (!Array.isArray(o.members)) throw new ValidationError('manifest.members', 'expected a list');
  const members = o.members.map((m: unknown, i: number): FileRef => {
    const f = `manifest.members[${i}]`;
    const mo = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
    const key = checkRelativeKey(`${f}.key`, mo.key);
    if (typeof mo.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(mo.sha256)) {
      throw new ValidationError(`${f}.sha256`, 'expected 64 lowercase hex digits');
    }
    return { key, sha256: mo.sha256 };
  });
  if (new Set(members.map((m) => m.key)).size !== members.length) {
    throw new ValidationError('manifest.members', 'lists a key twice');
  }
  if (typeof o.summary !== 'object' || o.summary === null || Array.isArray(o.summary)) {
    throw new ValidationError('manifest.summary', 'expected an object');
  }
  return {
    schemaVersion: phaseManifestSchemaVersion,
    run: checkSegment('manifest.run', o.run),
    phase: o.phase,
    inputHash: o.inputHash,
    createdAt: o.createdAt,
    members,
    summary: o.summary as Record<string, unknown>,
  };
}

/** Options of {@link writePhaseManifest}. */
export interface WritePhaseManifestOptions {
  readonly run: string;
  readonly phase: PhaseId;
  readonly inputHash: string;
  /** Written already, by {@link writePhaseMember}. */
  readonly members: readonly FileRef[];
  /** @default {} */
  readonly summary?: Readonly<Record<string, unknown>>;
  /** @default now */
  readonly createdAt?: Date;
}

/** Writes a phase's manifest, after its members: the phase's outputs are visible from then on. */
export async function writePhaseManifest(
  store: Store,
  options: WritePhaseManifestOptions,
): Promise<WrittenPhaseManifest> {
  const manifest = parsePhaseManifest({
    schemaVersion: phaseManifestSchemaVersion,
    run: options.run,
    phase: options.phase,
    inputHash: options.inputHash,
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    members: options.members,
    summary: options.summary ?? {},
  });
  const { phase, model } = parsePhaseId(manifest.phase);
  const written = await putJson(store, phaseManifestKey(manifest.run, phase, model), manifest);
  return { key: written.key, sha256: written.sha256, manifest };
}

/**
 * Reads and checks the manifest at `key` (from a `completed` record or a cache entry), verified
 * against `sha256` when given (an IntegrityError when the bytes differ); NotFoundError when missing.
 */
export async function readPhaseManifest(store: Store, key: string, sha256?: string): Promise<PhaseManifest> {
  return parsePhaseManifest(await getJson(store, key, 'manifest', sha256));
}

/** Reads a member of the manifest at `manifestKey`, verified against its sha256. */
export function readPhaseMember(store: Store, manifestKey: string, member: FileRef): Promise<Buffer> {
  return store.getBytes(phaseMemberKey(manifestKey, member), { sha256: member.sha256 });
}
