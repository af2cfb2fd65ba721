export * from './trajectory.js';
export * from './gs-video.js';
export { type CameraPath, type DollyZoomOptions, type WanderOptions, concatPaths, dollyZoomPath, gaussianKernel, stabilizePath, wanderPath, wobbleInterPath } from './paths.js';
export { eulerYXZ, interpolateExtrinsics, interpolateIntrinsics, matrixFromEulerYXZ } from './pivot.js';
