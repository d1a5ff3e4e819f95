// Pixels with sharp and typed arrays: decode once, Ben's filter, denoising, padded crops, square
// resize, grayscale, TTA views, dataset shards. Pixel augmentations live in `./augment`.
export { benRows, benSigma, gaussianKernelFixedPoint, gaussianTaps8u } from './ben.js';
export { benRowsWasm, ensureBenWasm } from './ben-wasm.js';
export { reflect101 } from './border.js';
export { cropRaw, cropWorkPixels, cutCharacter, cutPlanned, planCrop } from './crop.js';
export { cutCrops } from './crop-stream.js';
export {
  decodeImage,
  defaultMaxPixels,
  encodeJpeg,
  encodePng,
  ImageFormat,
  imageEndProblem,
  imageTailBytes,
  renderSvgPng,
  sniffImageFormat,
} from './decode.js';
export { GeometryError, ImageDecodeError, ImageTooLargeError, ImagingError, ShardFormatError } from './errors.js';
export { denoiseColoredSync } from './denoise.js';
export { toGrayscale, toRgb } from './grayscale.js';
export { lab8ToLinearRgb, linearRgbToLab8 } from './lab.js';
export { nlMeansRows, planNlMeans } from './nlmeans.js';
export { ensureNlMeansWasm, nlMeansRowsWasm } from './nlmeans-wasm.js';
export { checkBox, paddedBox, paddingFor, PaddingPolicy } from './padding.js';
export { createRawImage, rawImageFrom } from './raw-image.js';
export { defaultThreads } from './parallel.js';
export { benFilter, denoiseColored, preprocessPage } from './preprocess-page.js';
export { resizeBicubic, resizeSquare } from './resize.js';
export { roundHalfEven } from './rounding.js';
export {
  decodeShard,
  encodeShardRecord,
  parseShardIndex,
  readShardRecordAt,
  readShardRecords,
  shardIndexVersion,
  shardName,
  shardRecordHeaderBytes,
  ShardWriter,
} from './shard.js';
export { cropFileName } from './crop-names.js';
export { ttaCentreCrop, ttaSevenCrop, ttaViews, ttaViewSpecs, TtaView } from './tta.js';

export type { CutCharacter, CutOptions, PlannedCrop } from './crop.js';
export type { CutCropsOptions } from './crop-stream.js';
export type { DecodeOptions, EncodePngOptions } from './decode.js';
export type { DenoiseOptions } from './denoise.js';
export type { NlMeansParams, NlMeansPlan } from './nlmeans.js';
export type { Box, PixelBox } from './padding.js';
export type { PreprocessPageOptions } from './preprocess-page.js';
export type { RawImage } from './raw-image.js';
export type {
  ShardFile,
  ShardIndex,
  ShardIndexRecord,
  ShardRecord,
  ShardRecordMeta,
  ShardWriterOptions,
} from './shard.js';
export type { TtaOptions, TtaViewSpec } from './tta.js';
