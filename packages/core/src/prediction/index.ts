export * from './prediction.js';
