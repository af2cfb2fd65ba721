/**
 * @da3js/web — Depth Anything 3 in the browser: official weights fetched with HTTP range requests,
 * converted to ONNX in the page (and cached), run with onnxruntime-web (WebGPU, else WASM).
 * No Node built-ins.
 *
 * ```ts
 * const model = await DepthAnything3.fromPretrained('depth-anything/DA3-SMALL', { device: 'auto' });
 * const prediction = await model.inference([fileInput.files[0], fileInput.files[1]]);
 * const files = await prediction.export('glb-depth_vis'); // File[]
 * ```
 */
export {
  DepthAnything3,
  type DecodeProgress,
  type WebFromPretrainedOptions,
  type WebInferenceOptions,
  type WebPrediction,
  type WebProgressEvent,
} from './depth-anything-3.js';
export {
  configureWasm,
  createWebRunner,
  executionProviders,
  hasWebGpu,
  assertWebDeviceDtype,
  resolveDtype,
  resolvePrecision,
  webCapabilities,
  WEB_DEVICES,
  WEB_DTYPES,
  type WasmOptions,
  type WebCapabilities,
  type WebDevice,
  type WebDtype,
  type WebRunner,
  type WebRunnerOptions,
} from './backend.js';
export { cacheApiModelCache, defaultModelCache, memoryModelCache, type WebModelCache } from './cache.js';
export { convertGraph, graphCacheKey, storeGraph, type GraphBlobs, type GraphBuild } from './graph.js';
export { decodeImage, MAX_IMAGE_PIXELS, rasterize, sampleVideo, videoFrameCount, videoFrames, videoSampleTimes, type DecodeImageOptions, type SampleVideoOptions, type WebImageInput } from './input.js';
export { streamVideo, WEB_STREAM_DEFAULTS, type WebStreamOptions, type WebStreamSource } from './stream.js';
export { jpegExifOrientation, withoutExifOrientation } from './exif.js';
export { exportToFiles, mimeTypeOf } from './export.js';
export { createWebVideoEncoder, type WebVideoEncoderOptions } from './video/encoder.js';
export { muxMp4, type Mp4Sample, type Mp4Track } from './video/mp4.js';
export { blobByteSource, blobSink, httpRangeByteSource, withReadProgress, withSignal, type AbortableByteSource, type BlobByteSource, type HttpByteSource } from './io.js';
export { defaultTimingStore, memoryTimingStore, networkUnits, type TimingStore } from './timings.js';
export { abortable } from './abort.js';
export { pipeline, type DepthEstimationPipeline } from './pipeline.js';
export { createWebGpuRasterizer, type WebGpuRasterizerOptions } from './gaussians.js';
