export * from './types.js';
export * from './constants.js';
export * from './frame.js';
export * from './project.js';
export * from './composite.js';
export * from './cpu.js';
export * from './parallel.js';
export * from './webgpu/index.js';
