// Preloaded (NODE_OPTIONS=--import) into a kzr process by lazy-load.test.ts: at exit, prints on
// stderr which heavy packages the process loaded (TensorFlow.js, ONNX Runtime and sharp are
// CommonJS, so every module of theirs is in the require cache, whichever way it was imported).
import { createRequire } from 'node:module';
import process from 'node:process';

const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const files = Object.keys(cache);
  const heavy = ['@tensorflow/tfjs-core', 'onnxruntime-node', 'sharp'];
  const loaded = heavy.filter((p) => files.some((f) => f.includes(`/node_modules/${p}/`)));
  process.stderr.write(`kzr-heavy: ${JSON.stringify(loaded)}\n`);
});
