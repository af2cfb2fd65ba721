export * from './builder.js';
export * from './ops.js';
