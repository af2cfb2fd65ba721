export { createWebGpuRasterizer, type WebGpuDeviceLike, type WebGpuRasterizerOptions } from './rasterizer.js';
