/**
 * @da3js/node — Depth Anything 3 on Node.js: `DepthAnything3.fromPretrained(id)` downloads and
 * caches the official checkpoint, converts it once into an ONNX graph, runs it with
 * onnxruntime-node (CUDA when its provider is installed and loads, else the CPU), and returns a
 * `Prediction` you can `export` to glb, npz, depth images, COLMAP, ….
 *
 * ```ts
 * const model = await DepthAnything3.fromPretrained('depth-anything/DA3-SMALL');
 * const prediction = await model.inference(['a.jpg', 'b.jpg']);
 * await prediction.export({ dir: 'out', formats: 'mini_npz-depth_vis' });
 * await model.dispose();
 *
 * // or, transformers.js style:
 * const depth = await pipeline('depth-estimation', 'depth-anything/DA3-SMALL');
 * const same = await depth(['a.jpg', 'b.jpg']);
 * ```
 */

export { findAppDir, resolveServedModel } from './app/model.js';
export { type AppServerOptions, createAppServer, type ServedModel, type ServedModelFile } from './app/server.js';
export { type CliIo, runCli } from './cli/main.js';
export { type ExportToDirectoryOptions, exportToDirectory } from './export/export-dir.js';
export { type FfmpegVideoEncoderOptions, ffmpegVideoEncoder } from './export/ffmpeg-video.js';
export { createGallery, GALLERY_CSP, type GalleryOptions } from './gallery/server.js';
export { createNodeCpuRasterizer, type NodeCpuRasterizerOptions } from './gaussians/cpu-rasterizer.js';
export * from './hub/index.js';
export * from './input/index.js';
export {
  assertNodeOptions,
  type Da3ProgressEvent,
  DepthAnything3,
  defaultCacheDir,
  type FromPretrainedOptions,
  type ImageDecoder,
  type ModelFiles,
  modelKindOf,
  NODE_DTYPES,
  type NodeDtype,
  type NodeImageInput,
  type NodeInferenceOptions,
  type NodePrediction,
} from './model/depth-anything-3.js';
export { type ModelSourceOptions, resolveModelSource } from './model/from-pretrained.js';
export { type DepthEstimationPipeline, pipeline } from './model/pipeline.js';
export { createRunner, cudaProviderInstalled, DEVICES, optimizedGraphPath, type Device, type DeviceInfo, type OrtRunner, type RunnerOptions } from './runtime/ort-runner.js';
export * from './service/index.js';
export { type NodeStreamOptions, type StreamToDirectoryOptions, type StreamToDirectoryResult, streamFrames, streamToDirectory } from './stream/stream.js';
