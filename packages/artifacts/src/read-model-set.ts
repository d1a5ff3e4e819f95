/**
 * Reading model-set versions from the Store: the manifest (checked, and naming the set and
 * version it is stored under), member files verified against the manifest's sha256, the class
 * map, and the newest published version. Inference builds its engines from what these return.
 */
import { type Store, ValidationError } from '@kzr/platform';

import { modelSetFileKey, modelSetManifestKey, modelSetsPrefix, parseModelSetManifestKey } from './keys.js';
import {
  type ClassMapFile,
  type FileRef,
  type MemberManifest,
  type ModelSetManifest,
  parseClassMapFile,
  parseManifest,
} from './model-set-manifest.js';

/** Reads and checks `models/<set>/<version>/manifest.json`; NotFoundError when it is missing. */
export async function readModelSetManifest(store: Store, modelSet: string, version: string): Promise<ModelSetManifest> {
  const bytes = await store.getBytes(modelSetManifestKey(modelSet, version));
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ValidationError('manifest', 'not JSON', { cause: err });
  }
  const manifest = parseManifest(json);
  if (manifest.modelSet !== modelSet || manifest.version !== version) {
    throw new ValidationError(
      'manifest.modelSet',
      `names ${manifest.modelSet}@${manifest.version}, stored as ${modelSet}@${version}`,
    );
  }
  return manifest;
}

/** Reads a file of a version, verified against its sha256 (an IntegrityError when it differs). */
export async function readModelSetFile(store: Store, manifest: ModelSetManifest, file: FileRef): Promise<Buffer> {
  return store.getBytes(modelSetFileKey(manifest.modelSet, manifest.version, file.key), { sha256: file.sha256 });
}

/** Reads and checks a member's class map. */
export async function readMemberClassMap(
  store: Store,
  manifest: ModelSetManifest,
  member: MemberManifest,
): Promise<ClassMapFile> {
  const bytes = await readModelSetFile(store, manifest, member.classMap);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ValidationError(`${member.name}.classMap`, 'not JSON', { cause: err });
  }
  return parseClassMapFile(json, `${member.name}.classMap`);
}

/**
 * The newest published version of `modelSet` (latest manifest `createdAt`), or of any set when
 * `modelSet` is omitted; undefined when the Store holds none. Manifests that do not parse are
 * not candidates.
 */
export async function newestModelSetVersion(
  store: Store,
  modelSet?: string,
): Promise<{ modelSet: string; version: string } | undefined> {
  let best: { modelSet: string; version: string; createdAt: number } | undefined;
  for (const info of await store.list(modelSetsPrefix(modelSet))) {
    const ref = parseModelSetManifestKey(info.key);
    if (ref === undefined) continue;
    let manifest: ModelSetManifest;
    try {
      manifest = await readModelSetManifest(store, ref.modelSet, ref.version);
    } catch {
      continue; // an unreadable manifest is not a candidate
    }
    const createdAt = Date.parse(manifest.createdAt);
    if (!best || createdAt > best.createdAt) best = { ...ref, createdAt };
  }
  return best && { modelSet: best.modelSet, version: best.version };
}
