export * from './dtype.js';
export * from './byte-source.js';
export * from './safetensors-reader.js';
export * from './safetensors-writer.js';
