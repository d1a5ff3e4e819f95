// Dataset I/O beside core: npy/npz and tar readers, dataset downloader, synthetic Kaggle-format books.
export { DataArgumentError, DataFormatError, DownloadError, IntegrityCheck, IntegrityError } from './errors.js';
export {
  DATASET_FILES,
  DatasetName,
  datasetFiles,
  downloadDataset,
  downloadFile,
  OFFICIAL_BASE_URL,
  ProgressMode,
} from './download.js';
export { NpyDtype, parseNpy } from './npy.js';
export { parseNpz, readNpz } from './npz.js';
export { decodeGreyPng, readKuzushijiKanji, readTarEntries, TarEntryType } from './tar.js';
export { listZipEntries, readZipEntry, ZipMethod } from './zip.js';

export type { DatasetFile, DownloadOptions, DownloadResult } from './download.js';
export type { NpyArray, NpyData } from './npy.js';
export type { GreyImage, KanjiImage, TarEntry } from './tar.js';
export type { ZipEntry } from './zip.js';
