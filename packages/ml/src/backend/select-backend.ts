/**
 * TensorFlow.js backend selection: tfjs-node-gpu > tfjs-node > wasm > cpu. Each candidate is
 * loaded with a dynamic `import()`; *any* failure (module absent, native library missing, CUDA
 * initialisation failing, `setBackend` resolving false) means "unavailable" and the next one is
 * tried. `KZR_TF_BACKEND=gpu|node|wasm|cpu` pins one (and fails if it is unavailable). On wasm the
 * composite training kernels are registered before the backend is set.
 */
import * as tf from '@tensorflow/tfjs';

import { BackendUnavailableError, MlValidationError } from '../errors.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

/** The backends kzr can run on, best first. */
export const BackendName = {
  Gpu: 'gpu',
  Node: 'node',
  Wasm: 'wasm',
  Cpu: 'cpu',
} as const;
export type BackendName = (typeof BackendName)[keyof typeof BackendName];

/** Selection order when nothing is pinned. */
export const backendPreference: readonly BackendName[] = ['gpu', 'node', 'wasm', 'cpu'];

/** What {@link initBackend} chose. */
export interface BackendChoice {
  /** kzr's name for the backend. */
  readonly name: BackendName;
  /** TensorFlow.js's registered backend name (`tensorflow`, `wasm`, `cpu`). */
  readonly tfName: string;
  /** Why each better candidate was skipped (`name: reason`). */
  readonly skipped: readonly string[];
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Pin one backend; overrides `KZR_TF_BACKEND`. */
  readonly backend?: BackendName;
  /** Receives one line naming the chosen backend (and the skipped ones). @default no logging */
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
  /** Environment to read `KZR_TF_BACKEND` from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

let current: Promise<BackendChoice> | undefined;

async function tryNode(gpu: boolean): Promise<void> {
  // Import at most one of the two: both register the backend name `tensorflow`.
  const spec = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  await import(spec);
  if (!(await tf.setBackend('tensorflow')) || tf.getBackend() !== 'tensorflow') {
    throw new Error('setBackend("tensorflow") failed');
  }
}

async function tryWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm')) || tf.getBackend() !== 'wasm') throw new Error('setBackend("wasm") failed');
}

async function tryCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu')) || tf.getBackend() !== 'cpu') throw new Error('setBackend("cpu") failed');
  // The CPU backend prints a banner ("install our node backend") on its first tensor in Node;
  // kzr chose cpu knowingly (and logs the skipped backends), so it is noise on every run.
  (tf.backend() as { firstUse?: boolean }).firstUse = false;
}

const loaders: Record<BackendName, () => Promise<void>> = {
  gpu: () => tryNode(true),
  node: () => tryNode(false),
  wasm: tryWasm,
  cpu: tryCpu,
};

function parsePinned(value: string | undefined): BackendName | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const name = value.trim();
  if (!(backendPreference as readonly string[]).includes(name)) {
    throw new MlValidationError('KZR_TF_BACKEND', `expected one of ${backendPreference.join(', ')}, got "${name}"`);
  }
  return name as BackendName;
}

async function select(options: InitBackendOptions): Promise<BackendChoice> {
  const pinned = options.backend ?? parsePinned((options.env ?? process.env)['KZR_TF_BACKEND']);
  const candidates = pinned ? [pinned] : backendPreference;
  const skipped: string[] = [];
  for (const name of candidates) {
    try {
      await loaders[name]();
      const choice: BackendChoice = { name, tfName: tf.getBackend(), skipped };
      options.log?.(`tfjs backend: ${name}${pinned ? ' (pinned)' : ''}`, { backend: name, skipped });
      return choice;
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      skipped.push(`${name}: ${reason}`);
      if (pinned)
        throw new BackendUnavailableError(name, `tfjs backend "${name}" is unavailable: ${reason}`, { cause: err });
    }
  }
  throw new BackendUnavailableError('any', `no tfjs backend is available (${skipped.join('; ')})`);
}

/**
 * Chooses and initialises the TensorFlow.js backend once per process; later calls return the
 * first choice. Call before building models.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  current ??= select(options).catch((err: unknown) => {
    current = undefined;
    throw err;
  });
  return current;
}
