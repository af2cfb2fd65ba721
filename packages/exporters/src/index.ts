/**
 * @da3js/exporters — every DA3 output format (glb, ply, npz, depth/conf images, COLMAP, 3D
 * Gaussians, feature PCA), written as streams into sinks `(chunk) => void | Promise<void>`, so
 * Node writes files and the web makes Blobs. No Node built-ins.
 */
export { ChunkWriter, withSink, memorySink } from './writer.js';
export * from './npz/index.js';
export * from './images/index.js';
export * from './feat-vis/index.js';
export * from './export.js';
export * from './colmap/index.js';
export * from './ply/index.js';
export * from './gaussians/index.js';
export * from './glb/index.js';
export * from './gs-video/index.js';
