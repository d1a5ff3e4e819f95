/**
 * What the gRPC services share: the registry, the limits, request helpers (model resolution,
 * image decoding with limits) and the request metrics.
 */
import { errorKindOf } from '@kzr/core';
import { decodeImage, sniffImageFormat, type RawImage } from '@kzr/imaging';
import { type Logger, NotFoundError, ValidationError } from '@kzr/platform';

import { type InferenceLimits } from './config.js';
import { type ModelLease, type ModelRegistry } from './models/registry.js';
import { InferenceMetrics } from './metrics.js';
import { type PagePathSteps } from './recognize/page-path.js';

/** Options shared by the kzr.v1 and OIP services. */
export interface ServingOptions {
  readonly registry: ModelRegistry;
  readonly limits: InferenceLimits;
  readonly logger: Logger;
  /** The set used when a request names none; default: the only (or first) known set. */
  readonly defaultModelSet?: string;
  readonly metrics?: InferenceMetrics;
  /** The preprocess and postprocess steps RecognizePage calls. */
  readonly pagePath: PagePathSteps;
}

/** Media types of kzr.v1 `EncodedImage.media_type`, by enum number, as imaging names formats. */
const formatOfMediaType: Record<number, string> = { 1: 'jpeg', 2: 'png', 3: 'tiff', 4: 'webp' };

/** Shared request plumbing. */
export class Serving {
  readonly registry: ModelRegistry;
  readonly limits: InferenceLimits;
  readonly logger: Logger;
  readonly metrics: InferenceMetrics;
  readonly pagePath: PagePathSteps;
  private readonly defaultModelSet: string | undefined;

  constructor(options: ServingOptions) {
    this.registry = options.registry;
    this.limits = options.limits;
    this.logger = options.logger;
    this.defaultModelSet = options.defaultModelSet;
    this.metrics = options.metrics ?? new InferenceMetrics();
    this.pagePath = options.pagePath;
  }

  /** Leases the named (or default) set; NOT_FOUND / UNAVAILABLE per the registry. */
  lease(modelSet: string | undefined, version: string | undefined): ModelLease {
    const name = modelSet || this.defaultModelSet || this.registry.modelSets()[0];
    if (!name) throw new NotFoundError('model set (none is configured)');
    return this.registry.acquire(name, version ?? '');
  }

  /** Decodes an encoded image, checking its declared media type and the pixel limit. */
  async decode(bytes: Uint8Array, mediaType: number, field: string, maxPixels: number): Promise<RawImage> {
    if (bytes.length === 0) throw new ValidationError(field, 'empty image');
    const declared = formatOfMediaType[mediaType];
    const actual = sniffImageFormat(bytes);
    if (declared !== undefined && actual !== undefined && declared !== actual) {
      throw new ValidationError(`${field}.media_type`, `declared ${declared} but the bytes are ${actual}`);
    }
    return decodeImage(bytes, { field, maxPixels, channels: 3 });
  }
}

/**
 * Times a handler and records its status in the request metrics of `method`, with the serving
 * `set@version` that `servedBy` reads from a successful response.
 */
export async function measured<T>(
  serving: Serving,
  method: string,
  fn: () => Promise<T>,
  servedBy: (out: T) => string | undefined,
): Promise<T> {
  const started = performance.now();
  try {
    const out = await fn();
    serving.metrics.request(method, 'ok', performance.now() - started, servedBy(out));
    return out;
  } catch (err) {
    serving.metrics.request(method, errorKindOf(err), performance.now() - started);
    throw err;
  }
}

/** Throws the signal's reason (a deadline or cancellation KzrError) when it has fired. */
export function checkSignal(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}
