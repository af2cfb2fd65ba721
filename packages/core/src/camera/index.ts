export type * from './types.js';
export * from './matrix.js';
export * from './quaternion.js';
export * from './intrinsics.js';
export * from './pose-encoding.js';
export * from './normalize-extrinsics.js';
