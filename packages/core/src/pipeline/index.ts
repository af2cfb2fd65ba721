export * from './model.js';
export * from './decode.js';
export * from './pipeline.js';
export * from './task-pipeline.js';
