/** `.npy` / `.npz` (NumPy) writing and reading, and the reference's `npz` / `mini_npz` exports. */
export {
  type NpyArray,
  type NpyData,
  type NpyDataOf,
  type NpyDtype,
  type NpyHeaderInfo,
  decodeNpy,
  encodeNpy,
  npyDescr,
  npyHeader,
  parseNpyHeader,
} from './npy.js';
export {
  type NpzEntries,
  type NpzWriteOptions,
  type NpzWriteResult,
  type PredictionNpzOptions,
  predictionNpzArrays,
  readNpz,
  rintHalfEven,
  roundLikeNumpy,
  writeNpz,
  writePredictionNpz,
} from './npz.js';
export type { ZipWriteOptions } from './zip.js';
