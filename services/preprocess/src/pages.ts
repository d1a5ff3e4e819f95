/**
 * The preprocess operations shared by the gRPC service, the JetStream worker and the CLI:
 * read an image (inline or from the Store), preprocess a page, cut character crops.
 */
import type { Image } from '@kzr/api/kzr/v1/common';
import { MediaType } from '@kzr/api/kzr/v1/common';
import { PaddingPolicy as WirePadding } from '@kzr/api/kzr/v1/preprocess';
import {
  type Box,
  decodeImage,
  PaddingPolicy,
  planCrop,
  type PlannedCrop,
  type RawImage,
  sniffImageFormat,
} from '@kzr/imaging';
import { type Store, ValidationError } from '@kzr/platform';

const mediaTypeFormat: Record<number, string> = {
  [MediaType.MEDIA_TYPE_JPEG]: 'jpeg',
  [MediaType.MEDIA_TYPE_PNG]: 'png',
  [MediaType.MEDIA_TYPE_TIFF]: 'tiff',
  [MediaType.MEDIA_TYPE_WEBP]: 'webp',
};

/** Fetches the encoded bytes of a request image. */
export async function imageBytes(image: Image | undefined, store: Store | undefined): Promise<Uint8Array> {
  const source = image?.source;
  if (source === undefined) throw new ValidationError('image', 'no image given (set encoded or store_key)');
  if (source.$case === 'storeKey') {
    if (store === undefined) throw new ValidationError('image.store_key', 'this server has no Store configured');
    if (source.value === '') throw new ValidationError('image.store_key', 'empty key');
    return store.getBytes(source.value);
  }
  const { data, mediaType } = source.value;
  if (data.length === 0) throw new ValidationError('image.encoded.data', 'empty image');
  const declared = mediaTypeFormat[mediaType];
  if (declared === undefined && mediaType !== MediaType.MEDIA_TYPE_UNSPECIFIED) {
    throw new ValidationError('image.encoded.media_type', `unknown media type ${mediaType}`);
  }
  const sniffed = sniffImageFormat(data);
  if (declared !== undefined && sniffed !== undefined && declared !== sniffed) {
    throw new ValidationError('image.encoded.media_type', `declared ${declared} but the bytes are ${sniffed}`);
  }
  return data;
}

/** Decodes request image bytes to RGB within the pixel limit (INVALID_ARGUMENT otherwise). */
export function decodePage(bytes: Uint8Array, maxPagePixels: number, field = 'image'): Promise<RawImage> {
  return decodeImage(bytes, { maxPixels: maxPagePixels, field });
}

/** The imaging policy for a wire padding value (UNSPECIFIED = TRAIN). */
export function paddingFromWire(value: number): PaddingPolicy {
  switch (value) {
    case WirePadding.PADDING_POLICY_UNSPECIFIED:
    case WirePadding.PADDING_POLICY_TRAIN:
      return PaddingPolicy.Train;
    case WirePadding.PADDING_POLICY_INFER:
      return PaddingPolicy.Infer;
    case WirePadding.PADDING_POLICY_PSEUDO:
      return PaddingPolicy.Pseudo;
    default:
      throw new ValidationError('padding', `unknown padding policy ${value}`);
  }
}

/** Options of {@link planCrops}. */
export interface PlanCropsOptions {
  readonly policy: PaddingPolicy;
  /** Square side; omitted keeps the native padded size. */
  readonly size?: number;
  readonly channels?: 1 | 3;
}

/**
 * Checks every box and sizes its crop before any pixel is cut, so a bad box or a request over
 * budget fails before the first crop is sent.
 */
export function planCrops(page: RawImage, boxes: readonly Box[], options: PlanCropsOptions): PlannedCrop[] {
  return boxes.map((box, i) =>
    planCrop(page.width, page.height, page.channels, box, { ...options, field: `boxes[${i}]` }),
  );
}
