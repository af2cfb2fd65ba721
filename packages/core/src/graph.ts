/**
 * `@da3js/core/graph` — the graph-building layer behind `convertCheckpoint`: the ONNX graph
 * builder and its ops, and the DA3 network's parts (DINOv2 backbone with cross-view attention,
 * DPT heads, camera encoder/decoder, `buildNetGraph`). For building custom graphs or inspecting
 * the network; applications convert with `convertCheckpoint` / `buildGraphFor` from the main entry.
 */
export * from './model/graph/index.js';
export * from './model/net/index.js';
export * from './model/quantize/index.js';
