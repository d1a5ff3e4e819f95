/**
 * The setup both WebAssembly kernels (Ben's filter, NL-means) share: WAT text compiled with
 * wabt once per thread, then one instance per call on a fresh memory sized for that call's
 * buffers (the module imports `env.memory`).
 */
import wabtInit from 'wabt';

/** The part of the global WebAssembly API used here (the project's TS lib has no DOM types). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Instance: new (module: WasmModule, imports: object) => { exports: object };
}
/** A compiled module (opaque here). */
type WasmModule = object;
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Rounds a byte offset up to a multiple of 64 (buffer starts in kernel memory). */
export const align64 = (n: number): number => (n + 63) & ~63;

/** A kernel's instance on its own memory, with byte and int32 views of that memory. */
export interface KernelInstance<K> {
  readonly kernel: K;
  readonly bytes: Uint8Array;
  readonly ints: Int32Array;
}

/** A WAT module compiled on first {@link WatKernel.ensure}, instantiated per call. */
export class WatKernel<K> {
  readonly #fileName: string;
  readonly #wat: string;
  #compiled: Promise<WasmModule> | undefined;
  #module: WasmModule | undefined;

  /** `fileName` names the text in wabt's messages. */
  constructor(fileName: string, wat: string) {
    this.#fileName = fileName;
    this.#wat = wat;
  }

  /** Compiles the module once per thread; later calls wait for the same compilation. */
  async ensure(): Promise<void> {
    this.#compiled ??= (async () => {
      const wabt = await wabtInit();
      const parsed = wabt.parseWat(this.#fileName, this.#wat, { simd: true });
      try {
        return await wasm.compile(parsed.toBinary({}).buffer);
      } finally {
        parsed.destroy();
      }
    })();
    this.#module = await this.#compiled;
  }

  /** True when {@link WatKernel.ensure} has completed in this thread. */
  get ready(): boolean {
    return this.#module !== undefined;
  }

  /** A new instance on a memory of at least `memoryBytes` (plus one spare page). */
  instantiate(memoryBytes: number): KernelInstance<K> {
    if (this.#module === undefined) throw new Error(`${this.#fileName} was not compiled`);
    const memory = new wasm.Memory({ initial: Math.ceil(memoryBytes / 65536) + 1 });
    const kernel = new wasm.Instance(this.#module, { env: { memory } }).exports as unknown as K;
    return { kernel, bytes: new Uint8Array(memory.buffer), ints: new Int32Array(memory.buffer) };
  }
}
