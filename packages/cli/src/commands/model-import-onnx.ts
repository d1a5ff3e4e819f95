/**
 * `kzr model import-onnx --model-set <name> --version <v> [--classes <file>] [--input c,S,C]
 * [--mean m,...] [--std s,...] [--layout nchw|nhwc] [--voting hard|soft] [--engine auto|onnx|tfjs]
 * [--page-preprocessing ben+denoise|none] <member>...`: publishes a model-set version built from models users already have. A member
 * ending in `.onnx` is an ONNX model exported elsewhere (for example from PyTorch) and takes the
 * class list (`--classes`: JSON `{"codes": [...]}`, a JSON array, or one code per line, in
 * class-index order) and the input spec from the flags; a `kzr train` checkpoint directory
 * brings its own. `--page-preprocessing` records what the members' training crops were cut
 * from (default `ben+denoise`, the training pipeline's); RecognizePage preprocesses pages the
 * same way. Every member must share the class list. Each ONNX member is loaded in ONNX
 * Runtime first and its output width checked against the classes. The files and the manifest
 * go to the Store (`KZR_STORE`, default the data directory's filesystem Store) and
 * `kzr.models.published` goes on the Bus, so running inference services hot-swap to it.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

import {
  checkSegment,
  EngineChoice,
  loadCheckpointMember,
  type MemberSource,
  modelSetManifestKey,
  PagePreprocessing,
  parseClassMapFile,
  parseInputSpec,
  publishModelSet,
  VotingMode,
} from '@kzr/artifacts';
import { createOnnxEngine } from '@kzr/inference';
import { createLogger, EventSubject, openAdapters } from '@kzr/platform';

import { parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { usage } from './model-import-onnx.usage.js';
import { compileEmbeddedConfig } from '../config.js';

function numbers(flag: string, value: unknown): number[] {
  if (typeof value !== 'string') throw new UsageError(`--${flag}`, 'is required for ONNX members');
  const out = value.split(',').map((v) => Number(v.trim()));
  if (out.some((v) => !Number.isFinite(v)))
    throw new UsageError(`--${flag}`, `expected comma-separated numbers, got ${value}`);
  return out;
}

async function readClasses(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError('--classes', `cannot read ${path}`);
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = {
      codes: text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    };
  }
  if (Array.isArray(value)) value = { codes: value };
  return [...parseClassMapFile(value, '--classes').codes];
}

function sameCodes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  if (positionals.length === 0)
    throw new UsageError('members', 'expected at least one .onnx file or checkpoint directory');
  const modelSet = requireFlag(values, 'model-set');
  const version = requireFlag(values, 'version');
  const voting = (values.voting ?? 'hard') as string;
  const engine = (values.engine ?? 'auto') as string;
  if (!(Object.values(VotingMode) as string[]).includes(voting))
    throw new UsageError('--voting', 'expected hard or soft');
  if (!(Object.values(EngineChoice) as string[]).includes(engine))
    throw new UsageError('--engine', 'expected auto, onnx or tfjs');
  const pagePreprocessing = (values['page-preprocessing'] ?? PagePreprocessing.BenDenoise) as string;
  if (!(Object.values(PagePreprocessing) as string[]).includes(pagePreprocessing))
    throw new UsageError('--page-preprocessing', 'expected ben+denoise or none');
  checkSegment('--model-set', modelSet);
  checkSegment('--version', version);
  let codes: readonly string[] | undefined =
    typeof values.classes === 'string' ? await readClasses(values.classes) : undefined;
  const members: MemberSource[] = [];
  const owned: Array<{ dispose(): void }> = [];
  try {
    for (const [i, path] of positionals.entries()) {
      const name = basename(path, extname(path)).replace(/[^A-Za-z0-9._-]/g, '-') || `member-${i}`;
      if (extname(path).toLowerCase() === '.onnx') {
        if (!codes) throw new UsageError('--classes', 'is required for ONNX members');
        const [channels, scaleSize, cropSize] = numbers('input', values.input);
        const input = parseInputSpec('--input', {
          channels,
          scaleSize,
          cropSize,
          mean: numbers('mean', values.mean),
          std: numbers('std', values.std),
          layout: values.layout ?? 'nchw',
        });
        const onnx = new Uint8Array(
          await readFile(path).catch(() => {
            throw new UsageError(`members[${i}]`, `cannot read ${path}`);
          }),
        );
        const probe = await createOnnxEngine({
          model: onnx,
          side: input.cropSize,
          channels: input.channels,
          layout: input.layout ?? 'nchw',
        }).catch((err: unknown) => {
          throw new UsageError(`members[${i}]`, `ONNX Runtime cannot run ${path}: ${(err as Error).message}`);
        });
        await probe.dispose();
        if (probe.numClasses !== codes.length) {
          throw new UsageError(
            `members[${i}]`,
            `${path} has ${probe.numClasses} outputs, the class list ${codes.length} codes`,
          );
        }
        members.push({ name, kind: 'onnx', onnx, input });
      } else {
        if (!(await stat(join(path, 'state.json')).catch(() => undefined))) {
          throw new UsageError(`members[${i}]`, `${path} is neither an .onnx file nor a kzr checkpoint`);
        }
        const member = await loadCheckpointMember(path);
        owned.push(member.model);
        if (codes && !sameCodes(codes, member.classes)) {
          throw new UsageError(`members[${i}]`, `${path} has a different class list`);
        }
        codes ??= member.classes;
        members.push({
          name: `${name}-${member.name}`.slice(0, 100),
          kind: 'kzr',
          model: member.model,
          input: member.input,
        });
      }
    }
    const config = compileEmbeddedConfig(process.env);
    const logger = createLogger({ level: 'warn' });
    const adapters = await openAdapters(config.adapters, { logger, source: 'kzr-cli' });
    try {
      const manifest = await publishModelSet(adapters.store, {
        modelSet,
        version,
        codes: codes!,
        members,
        voting: voting as VotingMode,
        engine: engine as EngineChoice,
        pagePreprocessing: pagePreprocessing as PagePreprocessing,
      });
      await adapters.bus.publish(
        EventSubject.ModelsPublished,
        {
          meta: undefined,
          model: { modelSet, version },
          manifestKey: modelSetManifestKey(modelSet, version),
          runId: '',
        },
        { id: `models-published-${modelSet}-${version}` },
      );
      printJson({
        modelSet,
        version,
        store: adapters.describe.store,
        members: manifest.members.map((m) => ({ name: m.name, kind: m.kind, input: m.input })),
        classes: codes!.length,
      });
    } finally {
      await adapters.close();
    }
    return 0;
  } finally {
    for (const m of owned) m.dispose();
  }
}
