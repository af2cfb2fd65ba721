export * from './types.js';
export { writeOnnxModel, encodeOnnxModel, initializerBytes, needsExternalData, MAX_EMBEDDED_BYTES, type ExternalDataTarget, type WriteOnnxOptions } from './onnx-writer.js';
export { readOnnxMetadata } from './onnx-metadata.js';
