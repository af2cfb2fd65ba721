export * from './attention.js';
export * from './backbone.js';
export * from './dpt-head.js';
