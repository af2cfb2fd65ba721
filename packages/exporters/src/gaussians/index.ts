/** 3D Gaussians: 3DGS PLY (sh0 / sh3 layouts) writer and reader, the reference's pruning, SPZ v2. */
export type { GaussianRotationOrder } from './common.js';
export {
  type GaussiansPlyData,
  type GaussiansPlyLayout,
  gaussiansPlyProperties,
  opacityFromLogit,
  opacityLogit,
  readGaussiansPly,
  type WriteGaussiansPlyOptions,
  type WriteGaussiansPlyResult,
  writeGaussiansPly,
} from './ply.js';
export {
  type GaussianPixelLayout,
  gaussianPruneIndices,
  type PruneGaussiansOptions,
  pruneGaussians,
  selectGaussians,
} from './prune.js';
export { SPZ_MAGIC, SPZ_VERSION, type WriteSpzOptions, type WriteSpzResult, writeSpz } from './spz.js';
