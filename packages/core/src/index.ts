/**
 * @da3js/core — runtime-free Depth Anything 3: camera and Depth-Ray maths, preprocessing,
 * model configs, safetensors, and the `Prediction` type. Typed arrays in, typed arrays out;
 * no `fs`, no DOM, no onnxruntime.
 *
 * The graph builder and the network's parts are in `@da3js/core/graph`; the job protocol of the
 * inference services in `@da3js/core/protocol`.
 *
 * Conventions everywhere: OpenCV camera axes (x right, y down, z forward); extrinsics are
 * world→camera 3×4 `[R|t]`, row-major; intrinsics are 3×3 in processed-image pixels.
 */
export * from './errors.js';
export type * from './io.js';
export * from './weights/index.js';
export * from './camera/index.js';
export * from './random/index.js';
export * from './preprocess/index.js';
export * from './rays/index.js';
export * from './align/index.js';
export * from './config/index.js';
export * from './prediction/index.js';
export * from './model/host/index.js';
export * from './model/onnx/index.js';
export type { FloatPrecision } from './model/graph/builder.js';
export * from './model/checkpoint.js';
export { netGraphOutputs, type NetGraphOptions } from './model/net/da3-net.js';
export * from './model/weights-map/index.js';
export * from './model/convert.js';
export { type GraphDtype, type GraphQuantization, DA3_QUANTIZATION, GRAPH_DTYPES, GRAPH_QUANTIZATIONS, assertDtype, graphDtypeChoice, graphDtypeOf, quantizeNetGraph } from './model/quantize/dtype.js';
export * from './pipeline/index.js';
export * from './gaussians/index.js';
export * from './stream/align/index.js';
// `Sim3` and `applySim3ToExtrinsics` are names of both align/ (evo-style `{ R, t, scale }`, batches
// of extrinsics) and stream/align/ (`{ scale, rotation, translation }`, one 3×4): at this level
// they stay align/'s; stream/align/'s are re-exported under the names below.
export { type Sim3, applySim3ToExtrinsics } from './align/index.js';
export { type Sim3 as StreamSim3, applySim3ToExtrinsics as applyStreamSim3ToExtrinsics } from './stream/align/index.js';
export * from './stream/plan.js';
export * from './stream/point-cloud.js';
export * from './stream/pose-files.js';
export * from './stream/stream-inference.js';
export {
  STREAM_LOOP_DEFAULTS,
  type StreamLoop,
  type StreamLoopClosureOptions,
  type StreamLoopDetectOptions,
  type StreamLoopResult,
  type StreamLoopWindow,
  correctStreamFrame,
  correctStreamPoints,
  resolveLoopFeatureLayer,
} from './stream/loop-closure.js';
