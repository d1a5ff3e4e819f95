/**
 * The `kzr.v1.Preprocess` gRPC service: PreprocessPage (Ben's filter + denoising, PNG out) and
 * CropCharacters (padded, optionally resized crops, streamed in bounded messages).
 */
import type { Box as WireBox } from '@kzr/api/kzr/v1/common';
import {
  type CropCharactersRequest,
  type CropCharactersResponse,
  type PreprocessPageRequest,
  type PreprocessPageResponse,
  PreprocessService,
} from '@kzr/api/kzr/v1/preprocess';
import { cropWorkPixels, cutCrops, encodePng, type PlannedCrop, preprocessPage } from '@kzr/imaging';
import {
  type CallContext,
  type GrpcServiceRegistration,
  type Handlers,
  implement,
  LimitExceededError,
  type Logger,
  type Store,
  ValidationError,
} from '@kzr/platform';

import { compilePreprocessLimits, type PreprocessLimits } from './config.js';
import { decodePage, imageBytes, paddingFromWire, planCrops } from './pages.js';

/** Fully qualified service name, as health and reflection report it. */
export const preprocessServiceName = 'kzr.v1.Preprocess';

/** Options of {@link createPreprocessService}. */
export interface PreprocessServiceOptions {
  /** Request limits; default: read from `process.env` (see config.ts). */
  readonly limits?: PreprocessLimits;
  /** Store for `Image.store_key` inputs; without one, such requests are INVALID_ARGUMENT. */
  readonly store?: Store;
}

/** Per-crop overhead of a Crop message besides its pixels (fields, box), generously. */
const cropOverheadBytes = 96;

/**
 * Bytes a response message is closed at, below the message limit: encoding a message runs on the
 * event loop (a 35 MB one blocks it for a tenth of a second and more), so crops go out in
 * messages of a few megabytes; a single larger crop goes alone.
 */
const targetMessageBytes = 4 * 1024 ** 2;

/** Checks the crop size asked for, before the page is fetched or decoded. */
function checkCropRequest(request: CropCharactersRequest, limits: PreprocessLimits): void {
  const count = request.boxes.length;
  if (count === 0) throw new ValidationError('boxes', 'no boxes given');
  if (count > limits.maxBoxesPerRequest) {
    throw new LimitExceededError('boxes', `${count} boxes`, 'KZR_PREPROCESS_MAX_BOXES', limits.maxBoxesPerRequest);
  }
  if (request.channels !== 0 && request.channels !== 1 && request.channels !== 3) {
    throw new ValidationError('channels', `must be 1 or 3, got ${request.channels}`);
  }
  if (request.size < 0 || request.size > 4096)
    throw new ValidationError('size', `must be 0..4096, got ${request.size}`);
  if (request.size > limits.maxCropSize) {
    throw new LimitExceededError(
      'size',
      `crops of ${request.size}x${request.size}`,
      'KZR_PREPROCESS_MAX_CROP_SIZE',
      limits.maxCropSize,
    );
  }
  // The written pixels alone, known before decoding, already bound a resizing request.
  const written = count * request.size * request.size;
  if (written > limits.maxCropPixelsPerRequest) {
    throw new LimitExceededError(
      'boxes',
      `${count} crops of ${request.size}x${request.size} (${written} pixels)`,
      'KZR_PREPROCESS_MAX_CROP_PIXELS',
      limits.maxCropPixelsPerRequest,
    );
  }
}

/** Checks the planned crops against the message size and the request's pixel budget. */
function checkCropBudget(crops: readonly PlannedCrop[], limits: PreprocessLimits): void {
  let pixels = 0;
  crops.forEach((crop, i) => {
    const bytes = crop.width * crop.height * crop.channels + cropOverheadBytes;
    if (bytes + 64 > limits.maxMessageBytes) {
      throw new ValidationError(`boxes[${i}]`, `its crop (${bytes} bytes) exceeds the message limit`);
    }
    pixels += cropWorkPixels(crop);
  });
  if (pixels > limits.maxCropPixelsPerRequest) {
    throw new LimitExceededError(
      'boxes',
      `${crops.length} crops reading and writing ${pixels} pixels`,
      'KZR_PREPROCESS_MAX_CROP_PIXELS',
      limits.maxCropPixelsPerRequest,
    );
  }
}

/** The handlers, exported for tests that call them without a server. */
export function preprocessHandlers(limits: PreprocessLimits, store?: Store): Handlers<typeof PreprocessService> {
  return {
    preprocessPage: async (request: PreprocessPageRequest, ctx: CallContext): Promise<PreprocessPageResponse> => {
      const bytes = await imageBytes(request.image, store);
      const page = await decodePage(bytes, limits.maxPagePixels);
      const out = await preprocessPage(page, {
        ben: !request.skipBen,
        denoise: !request.skipDenoise,
        threads: limits.threads,
        signal: ctx.signal,
      });
      ctx.signal.throwIfAborted();
      const png = await encodePng(out);
      if (png.length > limits.maxMessageBytes) {
        throw new ValidationError('image', `the preprocessed PNG (${png.length} bytes) exceeds the message limit`);
      }
      return { png, width: out.width, height: out.height };
    },

    cropCharacters: async function* (
      request: CropCharactersRequest,
      ctx: CallContext,
    ): AsyncGenerator<CropCharactersResponse> {
      checkCropRequest(request, limits);
      const perMessage = Math.min(
        request.maxCropsPerMessage === 0 ? limits.maxCropsPerMessage : request.maxCropsPerMessage,
        limits.maxCropsPerMessage,
      );
      const policy = paddingFromWire(request.padding);
      const bytes = await imageBytes(request.image, store);
      const page = await decodePage(bytes, limits.maxPagePixels);
      const crops = planCrops(page, request.boxes, {
        policy,
        size: request.size === 0 ? undefined : request.size,
        channels: request.channels === 1 ? 1 : 3,
      });
      checkCropBudget(crops, limits);
      const batchLimit = Math.min(limits.maxMessageBytes - 64, targetMessageBytes);
      let batch: CropCharactersResponse['crops'] = [];
      let batchBytes = 0;
      let boxIndex = 0;
      // Cut lazily, a few crops ahead of the stream, off the event loop; the signal stops it.
      for await (const image of cutCrops(page, crops, { threads: limits.threads, signal: ctx.signal })) {
        const crop = crops[boxIndex]!;
        const size = image.data.length + cropOverheadBytes;
        if (batch.length > 0 && (batch.length >= perMessage || batchBytes + size > batchLimit)) {
          yield { crops: batch };
          batch = [];
          batchBytes = 0;
        }
        const box: WireBox = { ...crop.paddedBox };
        batch.push({
          boxIndex,
          height: image.height,
          width: image.width,
          channels: image.channels,
          pixels: image.data,
          paddedBox: box,
        });
        batchBytes += size;
        boxIndex++;
      }
      if (batch.length > 0) yield { crops: batch };
    },
  };
}

/** Builds the service registration for a gRPC server. */
export function createPreprocessService(
  logger: Logger,
  options: PreprocessServiceOptions = {},
): GrpcServiceRegistration {
  const limits = options.limits ?? compilePreprocessLimits(process.env, 64 * 1024 ** 2);
  return {
    name: preprocessServiceName,
    definition: PreprocessService,
    implementation: implement(PreprocessService, preprocessHandlers(limits, options.store), logger),
  };
}
