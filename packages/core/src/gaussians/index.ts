export * from './adapter.js';
export * from './sh.js';
