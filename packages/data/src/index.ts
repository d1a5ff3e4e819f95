// Dataset I/O beside core: npy/npz and tar readers, dataset downloader, synthetic Kaggle-format books.
export { DataArgumentError, DataFormatError, DataLimitError, DownloadError } from './errors.js';
export {
  DATASET_FILES,
  DatasetName,
  datasetFiles,
  downloadDataset,
  downloadFile,
  OFFICIAL_BASE_URL,
  ProgressMode,
} from './download.js';
export { DEFAULT_DETECTORS, simulateDetections } from './synth/detector.js';
export { CHARACTER_POOL, coveredCharacters, HOLDOUT_FONTS, TRAIN_FONTS } from './synth/fonts.js';
export { generateSyntheticDataset, SyntheticDefaults } from './synth/generate.js';
export { drawBookStyle } from './synth/page.js';
export { NpyDtype, parseNpy } from './npy.js';
export { defaultMaxNpzBytes, parseNpz, readNpz } from './npz.js';
export { decodeGreyPng, readKuzushijiKanji, readTarEntries, TarEntryType } from './tar.js';
export { listZipEntries, readZipEntry, ZipMethod } from './zip.js';

export type { DatasetFile, DownloadOptions, DownloadResult } from './download.js';
export type { NpyArray, NpyData } from './npy.js';
export type { NpzOptions } from './npz.js';
export type { GreyImage, KanjiImage, TarEntry } from './tar.js';
export type { DetectorSimulation } from './synth/detector.js';
export type { FontFamily } from './synth/fonts.js';
export type { SyntheticBook, SyntheticClass, SyntheticDataset, SyntheticDatasetOptions } from './synth/generate.js';
export type { BookStyle } from './synth/page.js';
export type { ZipEntry } from './zip.js';
