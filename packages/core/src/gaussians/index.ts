export * from './adapter.js';
export * from './sh.js';
export * from './render/index.js';
export * from './trajectory/index.js';
export * from './pose-scale.js';
