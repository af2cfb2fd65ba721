export * from './expected-tensors.js';
