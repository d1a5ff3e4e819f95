import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

import wabtInit from 'wabt';

import { batchNormWasmBase64 } from '../src/nn/batch-norm-wasm-bytes.js';
import { batchNormWat } from '../src/nn/batch-norm-wat.js';

/** Compiles the WAT text with wabt, as the embedded bytes were. */
async function compile(): Promise<string> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('batch-norm.wat', batchNormWat, { simd: true });
  try {
    return Buffer.from(parsed.toBinary({}).buffer).toString('base64');
  } finally {
    parsed.destroy();
  }
}

describe('batch-norm WebAssembly module', () => {
  it('the embedded bytes are the compiled WAT text (KZR_WRITE_WASM=1 rewrites them)', async () => {
    const compiled = await compile();
    if (process.env['KZR_WRITE_WASM'] === '1' && compiled !== batchNormWasmBase64) {
      const file = new URL('../src/nn/batch-norm-wasm-bytes.ts', import.meta.url);
      await writeFile(
        file,
        `/** The compiled \`batch-norm-wat.ts\` module (written by test/batch-norm-wasm.test.ts). */\nexport const batchNormWasmBase64 =\n  '${compiled}';\n`,
      );
      return;
    }
    assert.equal(batchNormWasmBase64, compiled);
  });
});
