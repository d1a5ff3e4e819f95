import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { repoRoot } from './kzr-cli.js';

const run = promisify(execFile);

/** The heavy packages (TensorFlow.js, ONNX Runtime, sharp) loading a command's module loads. */
async function heavyLoadedBy(name: string): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    await import('./packages/cli/src/commands/${name.replace(' ', '-')}.ts');
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const heavy = ['@tensorflow/tfjs-core', 'onnxruntime-node', 'sharp'];
    console.log(JSON.stringify(heavy.filter((p) => cache.some((f) => f.includes('/node_modules/' + p + '/')))));`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
  });
  return JSON.parse(stdout) as string[];
}

// Commands that need none of TensorFlow.js and ONNX Runtime, with the heavy packages they do need.
const expected: Record<string, string[]> = {
  score: [],
  order: [],
  'data books': [],
  'data split': [],
  'gbdt train': [],
  'gbdt predict': [],
  'gbdt cv': [],
  'gbdt search': [],
  'postprocess filter': [],
  'data ingest': ['sharp'],
  'data synth': ['sharp'],
  'preprocess page': ['sharp'],
  'preprocess crops': ['sharp'],
};

describe('kzr commands load their heavy dependencies only when they need them', () => {
  it('loads no TensorFlow.js or ONNX Runtime (and sharp only for images) where a command needs neither', async () => {
    const actual = Object.fromEntries(
      await Promise.all(Object.keys(expected).map(async (name) => [name, await heavyLoadedBy(name)] as const)),
    );
    assert.deepEqual(actual, expected);
  });
});
