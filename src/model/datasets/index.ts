/**
 * Dataset loading for the engine: `.npy`/`.npz` (read lazily, row ranges from disk), image folders, CSV and
 * JSONL token ids, all opened into one {@link Dataset} from a {@link DatasetSpec}; plus the `.npy`/`.npz`
 * writer used by `circuitscope run capture --out`.
 */

export { DatasetError, isDatasetError, type DatasetErrorCode, type SerializedDatasetError } from './errors';
export {
  DATA_DTYPES,
  DTYPE_SIZE,
  castArray,
  formatShape,
  fortranToC,
  isDataDType,
  shapeSize,
  type DataArray,
  type DataDType,
  type NdArray,
} from './ndarray';
export { decodeNpy, openNpy, parseNpyHeader, readNpy, type NpyFile, type NpyHeader } from './npy';
export { openNpz, readNpz, type NpzArchive, type NpzArrayInfo } from './npz';
export { encodeNpy, encodeNpz, npyHeader, writeNpy, writeNpz, type NpzWriteOptions } from './writer';
export { decodeImage, loadImageFolder, resizeBilinear, type ImageFolder, type ImageFolderOptions } from './images';
export { loadCsv, loadJsonl, type CsvData, type CsvOptions, type JsonlData, type JsonlOptions } from './text';
export {
  DATASET_FORMATS,
  inferFormat,
  isSpecPath,
  readDatasetSpec,
  validateDatasetSpec,
  type DatasetFormat,
  type DatasetSpec,
  type Layout,
} from './spec';
export {
  checkAgainstModelInput,
  openDataset,
  type Batch,
  type BatchOptions,
  type Dataset,
  type DatasetInputs,
  type OpenDatasetOptions,
} from './dataset';
