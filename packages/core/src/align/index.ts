/**
 * align/ — Sim(3)/scale alignment and the post-network metric maths: Umeyama (evo conventions)
 * and the reference's RANSAC pose alignment, pose-conditioned alignment to user cameras, torch-
 * compatible quantiles, and the Nested/metric/mono sky steps. Runtime-free, float64 geometry,
 * float32 tensor maths as torch does it.
 */
export { type Sim3, type UmeyamaOptions, umeyamaSim3, transformPointsSim3 } from './umeyama.js';
export {
  type PoseAlignOptions,
  type PoseAlignment,
  type RansacOptions,
  alignPosesUmeyama,
  applySim3ToExtrinsics,
  cameraCentres,
} from './poses.js';
export {
  type InputPoseAlignment,
  type InputPoseAlignmentInputs,
  type InputPoseAlignmentOptions,
  type InputPoseRandomness,
  alignToInputPoses,
} from './inputPoses.js';
export { type NumpyGenerator, numpyDefaultRng } from './numpyRandom.js';
export { type QuantileOptions, type QuantilePrecision, quantileLinear, quantileMasked, selectKth, weightedQuantile } from './quantile.js';
export {
  type AlignmentMaskOptions,
  type MonoSkyFill,
  type NestedAlignment,
  type NestedAlignmentInputs,
  type SkyHandling,
  alignNestedToMetric,
  applyMetricScaling,
  computeAlignmentMask,
  computeNonSkyMask,
  handleSkyRegions,
  leastSquaresScale,
  medianConfidence,
  monoSkyFill,
  scaleDepthAndExtrinsics,
} from './metric.js';
