/** Shared test fixtures: tiny zoo models, a filesystem Store, synthetic crops. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, type MetricData, MetricReader } from '@opentelemetry/sdk-metrics';
import { type RawImage } from '@kzr/imaging';
import { type ArchitectureConfig, type Classifier, createClassifier } from '@kzr/ml';
import { FsStore } from '@kzr/platform';
import { type InputSpec } from '@kzr/artifacts';

/** Ten class codes. */
export const testCodes = Array.from({ length: 10 }, (_, i) => `U+${(0x3042 + 2 * i).toString(16).toUpperCase()}`);

/** Tiny 32 px architectures. */
export const tinyResnet: ArchitectureConfig = {
  arch: 'resnet18',
  inputChannels: 1,
  numClasses: testCodes.length,
  stem: 'compact',
  widthMultiplier: 0.25,
  depthMultiplier: 0.5,
};
export const tinyEfficientNet: ArchitectureConfig = {
  arch: 'efficientnet-b0',
  inputChannels: 1,
  numClasses: testCodes.length,
  widthMultiplier: 0.25,
  depthMultiplier: 0.34,
};
export const tinySeResNeXt: ArchitectureConfig = {
  arch: 'se_resnext50_32x4d',
  inputChannels: 3,
  numClasses: testCodes.length,
  stem: 'compact',
  widthMultiplier: 0.125,
  depthMultiplier: 0.34,
  groups: 4,
  baseWidth: 16,
};

/** The input spec of the tiny models. */
export function tinyInput(channels: 1 | 3): InputSpec {
  return { channels, scaleSize: 34, cropSize: 32, mean: channels === 1 ? [0.5] : [0.5, 0.5, 0.5], std: [0.25] };
}

/** A classifier with seeded weights, with its batch-norm statistics and head perturbed so logits differ by seed. */
export function seededModel(config: ArchitectureConfig, seed: number): Classifier {
  const model = createClassifier({ ...config, initSeed: seed });
  let s = seed + 1;
  for (const e of model.params.entries) {
    if (!e.name.endsWith('.running_mean')) continue;
    const v = new Float32Array(e.variable.size);
    for (let i = 0; i < v.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      v[i] = (s / 2 ** 32 - 0.5) * 0.2;
    }
    const t = tf.tensor(v, e.variable.shape);
    e.variable.assign(t);
    t.dispose();
  }
  return model;
}

/** A deterministic synthetic crop (a dark stroke pattern on light paper). */
export function syntheticCrop(seed: number, width = 30, height = 36, channels: 1 | 3 = 3): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const stroke = Math.abs(Math.sin((x + seed) * 0.7) + Math.cos(y * ((seed % 5) + 1) * 0.3)) < 0.4;
      for (let c = 0; c < channels; c++)
        data[(y * width + x) * channels + c] = stroke ? 30 + c * 5 : 220 - ((x * y + seed) % 17);
    }
  }
  return { width, height, channels, data };
}

/** A temporary filesystem Store, removed on dispose. */
export async function tempStore(): Promise<FsStore & AsyncDisposable> {
  const root = await mkdtemp(join(tmpdir(), 'kzr-inference-'));
  const store = new FsStore({ root });
  return Object.assign(store, {
    async [Symbol.asyncDispose](): Promise<void> {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  });
}

// A reader collected on demand, so a test sees exactly what an exporter would.
class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Sets a global meter provider read by a test reader (once per test process); the returned
 * function collects every metric by name.
 */
export function installMetricReader(): () => Promise<Map<string, MetricData>> {
  const reader = new TestReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  return async () => {
    const { resourceMetrics } = await reader.collect();
    return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => [m.descriptor.name, m] as const)));
  };
}

/** The sum of a counter's data points whose attributes include `match`. */
export function counterSum(metric: MetricData | undefined, match: Record<string, unknown> = {}): number {
  const points = (metric?.dataPoints ?? []) as Array<{ attributes: Record<string, unknown>; value: unknown }>;
  return points
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : 0), 0);
}
