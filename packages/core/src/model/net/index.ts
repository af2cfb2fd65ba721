export * from './attention.js';
export * from './backbone.js';
export * from './camera-decoder.js';
export * from './camera-encoder.js';
export * from './dpt-head.js';
export * from './da3-net.js';
