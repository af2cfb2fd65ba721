/** Depth / confidence visualisations (`depth_vis`, `conf_vis`), matplotlib's Spectral, PNG / JPEG. */
export { SPECTRAL_CONTROL_POINTS, spectralIndex, spectralLut, spectralLutBytes } from './spectral.js';
export { type Colorized, type SpectralOptions, colorizeConf, colorizeDepth, colorizeSpectral, percentileNumpyF32 } from './colorize.js';
export { type JpegOptions, type RasterImage, encodeJpeg, encodePng, hconcat, writeJpeg, writePng } from './encode.js';
export {
  type VisImage,
  type VisOptions,
  renderConfVis,
  renderDepthVis,
  writeConfVisJpeg,
  writeConfVisPng,
  writeDepthVisJpeg,
  writeDepthVisPng,
} from './vis.js';
