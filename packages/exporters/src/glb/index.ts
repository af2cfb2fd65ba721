/** glTF exports: the reference's `scene.glb` (points + camera wireframes) and 3D Gaussians with KHR_gaussian_splatting. */
export { type GlbOptions, type GlbReport, glbConfidenceThreshold, isNearBlack, isNearWhite, writeGlb } from './points.js';
export { cameraColor } from './cameras.js';
export {
  type GaussiansGltfOptions,
  type GaussiansGltfReport,
  KHR_GAUSSIAN_SPLATTING,
  writeGaussiansGltf,
} from './gaussians.js';
