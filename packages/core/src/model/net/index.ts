export * from './attention.js';
export * from './backbone.js';
