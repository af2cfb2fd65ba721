export * from './types.js';
export * from './webgpu/index.js';
