import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { runKzr } from './kzr-cli.js';

const reporter = new URL('./report-heavy.mjs', import.meta.url).href;

/**
 * The heavy packages (TensorFlow.js, ONNX Runtime, sharp) `kzr <name>` loads, through the real
 * bin, so from dist/ when the build is current: an unknown flag makes the command exit right
 * after its module loaded.
 */
async function heavyLoadedBy(name: string): Promise<string[]> {
  const res = await runKzr([...name.split(' '), '--no-such-flag'], { NODE_OPTIONS: `--import=${reporter}` });
  assert.equal(res.code, 2, res.stderr);
  const line = res.stderr.split('\n').findLast((l) => l.startsWith('kzr-heavy: '));
  assert.ok(line, res.stderr);
  return JSON.parse(line.slice('kzr-heavy: '.length)) as string[];
}

// Commands that need neither TensorFlow.js nor ONNX Runtime, with the heavy packages they do need.
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
  'data npz': [],
  'data ingest': ['sharp'],
  'data synth': ['sharp'],
  'preprocess page': ['sharp'],
  'preprocess crops': ['sharp'],
  'run start': [],
  'run resume': [],
  'run watch': [],
  'run list': [],
  'run cancel': [],
  'phase run': [],
  retrain: [],
  'run logs': [],
  gc: [],
};

describe('kzr commands load their heavy dependencies only when they need them', () => {
  it('loads no TensorFlow.js or ONNX Runtime (and sharp only for images) where a command needs neither', async () => {
    const actual: Record<string, string[]> = {};
    for (const name of Object.keys(expected)) actual[name] = await heavyLoadedBy(name);
    assert.deepEqual(actual, expected);
  });

  it('loads TensorFlow.js for a command that needs it (the check sees what it looks for)', async () => {
    assert.ok((await heavyLoadedBy('model summary')).includes('@tensorflow/tfjs-core'));
  });
});
