/**
 * Preprocessing: the reference's `InputProcessor` (resize plans, OpenCV-exact resampling,
 * ImageNet normalisation, intrinsics adjustment) for decoded uint8 images.
 */

export type { ImageU8, RgbImageU8 } from './image.js';
export { cropImageU8, toRgbU8 } from './image.js';
export type { ProcessedImages } from './normalize.js';
export { IMAGENET_MEAN, IMAGENET_STD, normalizeRgbToChw, toProcessedImages } from './normalize.js';
export type {
  BatchPlan,
  CropStep,
  PlanOptions,
  PreprocessPlan,
  PreprocessStep,
  ResizeInterpolation,
  ResizeMethod,
  ResizeStep,
} from './plan.js';
export {
  adjustIntrinsics,
  DEFAULT_PROCESS_RES,
  DEFAULT_RESIZE_METHOD,
  PREPROCESS_SIZE_MULTIPLE,
  MAX_PROCESS_RES,
  MAX_PROCESSED_SIDE,
  planBatch,
  planPreprocess,
  RESIZE_METHODS,
} from './plan.js';
export type { IntrinsicsInput, PreprocessOptions, PreprocessResult } from './preprocess.js';
export { applyPlan, preprocessImages } from './preprocess.js';
export { resizeImageU8 } from './resize.js';
