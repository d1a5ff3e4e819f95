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
import { encodePng, preprocessPage } from '@kzr/imaging';
import {
  type CallContext,
  type GrpcServiceRegistration,
  type Handlers,
  implement,
  type Logger,
  type Store,
  ValidationError,
} from '@kzr/platform';

import { compilePreprocessLimits, type PreprocessLimits } from './config.js';
import { cutCrops, decodePage, imageBytes, paddingFromWire } from './pages.js';

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

/** The handlers, exported for tests that call them without a server. */
export function preprocessHandlers(limits: PreprocessLimits, store?: Store): Handlers<typeof PreprocessService> {
  return {
    preprocessPage: async (request: PreprocessPageRequest, ctx: CallContext): Promise<PreprocessPageResponse> => {
      const bytes = await imageBytes(request.image, store);
      const page = await decodePage(bytes, limits.maxPagePixels);
      ctx.signal.throwIfAborted();
      const out = await preprocessPage(page, {
        ben: !request.skipBen,
        denoise: !request.skipDenoise,
        threads: limits.threads,
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
      if (request.boxes.length === 0) throw new ValidationError('boxes', 'no boxes given');
      if (request.boxes.length > limits.maxBoxesPerRequest) {
        throw new ValidationError(
          'boxes',
          `${request.boxes.length} boxes exceed the limit of ${limits.maxBoxesPerRequest}`,
        );
      }
      const channels = request.channels === 0 ? 3 : request.channels;
      if (channels !== 1 && channels !== 3) throw new ValidationError('channels', `must be 1 or 3, got ${channels}`);
      if (request.size < 0 || request.size > 4096)
        throw new ValidationError('size', `must be 0..4096, got ${request.size}`);
      const perMessage = Math.min(
        request.maxCropsPerMessage === 0 ? limits.maxCropsPerMessage : request.maxCropsPerMessage,
        limits.maxCropsPerMessage,
      );
      const policy = paddingFromWire(request.padding);
      const bytes = await imageBytes(request.image, store);
      const page = await decodePage(bytes, limits.maxPagePixels);
      const crops = cutCrops(page, request.boxes, {
        policy,
        size: request.size === 0 ? undefined : request.size,
        channels,
      });
      let batch: CropCharactersResponse['crops'] = [];
      let batchBytes = 0;
      for (const crop of crops) {
        ctx.signal.throwIfAborted();
        const size = crop.image.data.length + cropOverheadBytes;
        if (size + 64 > limits.maxMessageBytes) {
          throw new ValidationError(`boxes[${crop.boxIndex}]`, `its crop (${size} bytes) exceeds the message limit`);
        }
        if (batch.length > 0 && (batch.length >= perMessage || batchBytes + size > limits.maxMessageBytes - 64)) {
          yield { crops: batch };
          batch = [];
          batchBytes = 0;
        }
        const box: WireBox = { ...crop.paddedBox };
        batch.push({
          boxIndex: crop.boxIndex,
          height: crop.image.height,
          width: crop.image.width,
          channels: crop.image.channels,
          pixels: crop.image.data,
          paddedBox: box,
        });
        batchBytes += size;
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
