export * from './prng.js';
