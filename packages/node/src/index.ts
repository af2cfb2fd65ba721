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
export {
  DepthAnything3,
  defaultCacheDir,
  modelKindOf,
  type Da3ProgressEvent,
  type FromPretrainedOptions,
  type ImageDecoder,
  type ModelFiles,
  type NodeImageInput,
  type NodeInferenceOptions,
  type NodePrediction,
} from './model/depth-anything-3.js';
export { resolveModelSource, type ModelSourceOptions } from './model/from-pretrained.js';
export { pipeline, type DepthEstimationPipeline } from './model/pipeline.js';
export { createRunner, cudaProviderInstalled, DEVICES, optimizedGraphPath, type Device, type DeviceInfo, type OrtRunner, type RunnerOptions } from './runtime/ort-runner.js';
export { exportToDirectory, type ExportToDirectoryOptions } from './export/export-dir.js';
export * from './hub/index.js';
export * from './input/index.js';
export { runCli, type CliIo } from './cli/main.js';
export { GALLERY_CSP, type GalleryOptions, createGallery } from './gallery/server.js';
export { type AppServerOptions, type ServedModel, type ServedModelFile, createAppServer } from './app/server.js';
export { findAppDir, resolveServedModel } from './app/model.js';
export * from './service/index.js';
