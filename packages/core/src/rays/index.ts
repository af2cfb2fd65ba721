export type { MapDims } from './dims.js';
export * from './ray-map.js';
export * from './depth-to-points.js';
export * from './ray-to-pose.js';
export { qlDecomposition3, type QlDecomposition } from './linalg.js';
