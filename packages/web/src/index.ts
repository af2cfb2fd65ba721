/**
 * @da3js/web — Depth Anything 3 in the browser: official weights fetched with HTTP range requests,
 * converted to ONNX in the page, run with onnxruntime-web (WebGPU, else WASM). No Node built-ins.
 *
 * ```ts
 * const model = await DepthAnything3.fromPretrained('depth-anything/DA3-SMALL', { device: 'auto' });
 * const prediction = await model.inference([{ data: imageData.data, width, height, channels: 4 }]);
 * ```
 */
export { DepthAnything3, type WebFromPretrainedOptions, type WebInferenceOptions, type WebProgressEvent } from './depth-anything-3.js';
export { createWebRunner, executionProviders, hasWebGpu, WEB_DEVICES, type WebDevice, type WebRunner } from './backend.js';
export { blobByteSource, blobSink, httpRangeByteSource } from './io.js';
