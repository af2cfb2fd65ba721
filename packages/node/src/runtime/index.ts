export * from './ort-runner.js';
