/**
 * stream/align — the alignment maths of DA3-Streaming (the reference's `da3_streaming/`, built on
 * VGGT-Long): each chunk's overlap frames aligned to the previous chunk's by a confidence-weighted
 * Huber IRLS Sim(3)/SE(3) fit, the depth-ratio scale of 'scale+se3', accumulation of the chunk
 * transforms, the Sim(3) pose graph of loop closure (Levenberg–Marquardt) and the loop pairs'
 * bookkeeping. Runtime-free, float64.
 */
export {
  type Sim3,
  accumulateSim3Transforms,
  applySim3ToExtrinsics,
  applySim3ToPoints,
  cloneSim3,
  composeSim3,
  computeSim3Ab,
  identitySim3,
  invertSim3,
  makeSim3,
} from './sim3.js';
export {
  type IrlsOptions,
  type RobustSim3Estimate,
  type StreamAlignMethod,
  estimateSim3,
  huberLoss,
  robustWeightedEstimateSim3,
  weightedEstimateSe3,
  weightedEstimateSim3,
} from './estimate.js';
export {
  type ChunkScale,
  type ScaleComputeMethod,
  type ScaleEstimate,
  type ScaleOptions,
  computeChunkScaleAdvanced,
  computeScaleRansac,
  computeScaleWeighted,
  precomputeScaleChunksWithDepth,
} from './scale.js';
export {
  type ChunkAlignment,
  type OverlapMaps,
  type StreamAlignOptions,
  alignChunkOverlap,
  alignPointMaps,
  computeAlignmentError,
  weightedAlignPointMaps,
} from './pointMaps.js';
export { type LegacyRandomState, legacyRandomState } from './legacyRandom.js';
export { sim3Exp, sim3Log } from './lie.js';
export {
  type LoopConstraint,
  type PoseGraphOptions,
  type PoseGraphResult,
  absoluteToSequentialTransforms,
  optimizeSim3PoseGraph,
  sequentialToAbsolutePoses,
} from './poseGraph.js';
export {
  type ChunkRange,
  type LoopChunkPair,
  type LoopClosure,
  type LoopDetectionOptions,
  findChunkIndex,
  findLoopClosures,
  getFrameRange,
  poolFrameDescriptors,
  processLoopList,
  removeDuplicates,
} from './loops.js';
