/**
 * COLMAP sparse models: the reference's export of a prediction (`writeColmap`), text and binary
 * writers and readers of the three files, and the cameras DA3 takes from a model for
 * pose-conditioned inference (`colmapToCameras`).
 */

export { colmapBinarySizes } from './binary.js';
export { type ColmapCameras, type ColmapPinholeApproximation, type ColmapToCamerasOptions, colmapToCameras } from './cameras.js';
export { type ColmapExportOptions, type ColmapExportResult, type ColmapExportStats, colmapModelFromPrediction, writeColmap } from './export.js';
export {
  type ColmapFileOpener,
  type ColmapReadResult,
  type ColmapSinkFactory,
  type ColmapWriteResult,
  type ReadColmapOptions,
  readColmap,
  writeColmapModel,
} from './io.js';
export {
  COLMAP_CAMERA_MODELS,
  COLMAP_FILES,
  type ColmapCamera,
  type ColmapCameraModelName,
  type ColmapFormat,
  type ColmapImage,
  type ColmapModel,
  type ColmapPoints,
  colmapCameraModelById,
  colmapCameraModelByName,
  emptyColmapPoints,
  validateColmapModel,
} from './model.js';
