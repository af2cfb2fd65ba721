/**
 * `preprocessImages`: the reference's `InputProcessor.__call__` end to end — plan, resample,
 * crop, normalise, stack — for decoded uint8 images.
 */
import { Da3Error } from '../errors.js';
import { checkImageU8, cropImageU8, type ImageU8, type RgbImageU8, toRgbU8 } from './image.js';
import { normalizeRgbToChw } from './normalize.js';
import { adjustIntrinsics, type PlanOptions, type PreprocessPlan, planBatch, resolvePlanOptions } from './plan.js';
import { resizeImageU8 } from './resize.js';

/**
 * Runs a plan's steps on the pixels of `image` (resizes with `resizeImageU8`, crops with
 * `cropImageU8`) and returns the processed RGB image, `plan.width×plan.height`, as a new array.
 * Throws `BAD_SHAPE` when the image is not the plan's input size, and the image validation errors.
 */
export function applyPlan(image: ImageU8, plan: PreprocessPlan): RgbImageU8 {
  const fn = 'applyPlan';
  checkImageU8(image, fn);
  if (image.width !== plan.inputWidth || image.height !== plan.inputHeight) {
    throw new Da3Error(
      'BAD_SHAPE',
      `${fn}: image is ${image.width}×${image.height} but the plan was made for ${plan.inputWidth}×${plan.inputHeight}`,
    );
  }
  let img: ImageU8 = image;
  for (const step of plan.steps) {
    img =
      step.op === 'resize'
        ? resizeImageU8(img, step.width, step.height, step.interpolation)
        : cropImageU8(img, step.left, step.top, step.width, step.height);
  }
  return img === image ? toRgbU8(image) : (img as RgbImageU8);
}

/**
 * Per-view intrinsics given to {@link preprocessImages}: either one flat row-major array of
 * `N·9` numbers (`[N, 3, 3]`), or a list of N arrays of 9 numbers. Pixels of the input images.
 * A `Float32Array` is adjusted with float32 arithmetic, anything else with float64 (see
 * `adjustIntrinsics`).
 */
export type IntrinsicsInput = Float32Array | Float64Array | readonly number[] | ReadonlyArray<ArrayLike<number>>;

/** Options of {@link preprocessImages}. */
export interface PreprocessOptions extends PlanOptions {
  /** Known intrinsics of the input views, adjusted to the processed images when given. */
  intrinsics?: IntrinsicsInput;
}

/** The network input built by {@link preprocessImages}. */
export interface PreprocessResult {
  /** ImageNet-normalised float32 `[1, N, 3, H, W]` (row-major), the graph's `images` input. */
  readonly tensor: Float32Array;
  readonly shape: readonly [1, number, 3, number, number];
  /** Processed width W and height H (pixels, multiples of 14). */
  readonly width: number;
  readonly height: number;
  /** Adjusted intrinsics `[N, 3, 3]` float32 in processed pixels, when intrinsics were given. */
  readonly intrinsics?: Float32Array;
  /** Each view's plan (ending with the batch crop when the views' sizes differed). */
  readonly plans: readonly PreprocessPlan[];
}

/** Splits {@link IntrinsicsInput} into N matrices of 9, validating count, shape and finiteness. */
function splitIntrinsics(input: IntrinsicsInput, n: number, fn: string): ArrayLike<number>[] {
  const list = input as ArrayLike<unknown>;
  if (!list || typeof list.length !== 'number') {
    throw new Da3Error('BAD_VALUE', `${fn}: intrinsics must be an array, got ${String(input)}`);
  }
  let mats: ArrayLike<number>[];
  if (list.length > 0 && typeof list[0] === 'object' && list[0] !== null) {
    mats = Array.from(list as ArrayLike<ArrayLike<number>>);
    if (mats.length !== n) throw new Da3Error('BAD_SHAPE', `${fn}: ${mats.length} intrinsics matrices for ${n} images`);
    mats.forEach((m, i) => {
      if (m?.length !== 9) throw new Da3Error('BAD_SHAPE', `${fn}: intrinsics[${i}] must have 9 numbers (3×3), got ${m ? m.length : String(m)}`);
    });
  } else {
    const flat = input as Float32Array | Float64Array | readonly number[];
    if (flat.length !== n * 9) {
      throw new Da3Error('BAD_SHAPE', `${fn}: intrinsics must hold N·9 = ${n * 9} numbers ([${n}, 3, 3]) for ${n} images, got ${flat.length}`);
    }
    mats = [];
    for (let i = 0; i < n; i++) {
      mats.push(Array.isArray(flat) ? flat.slice(i * 9, i * 9 + 9) : (flat as Float32Array | Float64Array).subarray(i * 9, i * 9 + 9));
    }
  }
  mats.forEach((m, i) => {
    for (let j = 0; j < 9; j++) {
      const v = m[j];
      if (typeof v !== 'number') throw new Da3Error('BAD_VALUE', `${fn}: intrinsics[${i}][${j}] is not a number (${String(v)})`);
      if (!Number.isFinite(v)) throw new Da3Error('NON_FINITE', `${fn}: intrinsics[${i}][${j}] is ${v}`);
    }
  });
  return mats;
}

/**
 * Preprocesses N decoded images into the network input, reproducing the reference's
 * `InputProcessor` (default `processRes` 504, method `upper_bound_resize`):
 * boundary resize and make-divisible-by-14 step with OpenCV-exact AREA/CUBIC resampling (see
 * `resizeRgbU8`), the mixed-size batch centre crop, ImageNet normalisation bit-exact in float32,
 * and the matching intrinsics adjustment.
 *
 * Throws `EMPTY_INPUT` (no images, a 0-pixel side), `BAD_SHAPE` (channels not 3/4, data length ≠
 * w·h·c, intrinsics count/shape mismatch, too extreme an aspect ratio), `BAD_VALUE` (processRes
 * not an integer ≥ 14, unknown method) or `NON_FINITE` (NaN/Infinity in intrinsics).
 */
export function preprocessImages(images: readonly ImageU8[], options?: PreprocessOptions): PreprocessResult {
  const fn = 'preprocessImages';
  if (!Array.isArray(images)) throw new Da3Error('BAD_VALUE', `${fn}: images must be an array, got ${String(images)}`);
  if (images.length === 0) throw new Da3Error('EMPTY_INPUT', `${fn}: no images`);
  for (let i = 0; i < images.length; i++) checkImageU8(images[i], fn, `image ${i}`);
  resolvePlanOptions(options, fn);
  const n = images.length;
  const mats = options?.intrinsics !== undefined ? splitIntrinsics(options.intrinsics, n, fn) : undefined;

  const batch = planBatch(
    images.map((im) => ({ width: im.width, height: im.height })),
    options,
  );
  const { width, height } = batch;
  const per = 3 * width * height;
  const tensor = new Float32Array(n * per);
  batch.plans.forEach((plan, i) => {
    const rgb = applyPlan(images[i], plan);
    normalizeRgbToChw(rgb.data, rgb.width, rgb.height, tensor, i * per);
  });

  let intrinsics: Float32Array | undefined;
  if (mats) {
    intrinsics = new Float32Array(n * 9);
    for (let i = 0; i < n; i++) intrinsics.set(adjustIntrinsics(mats[i], batch.plans[i]), i * 9);
  }
  return { tensor, shape: [1, n, 3, height, width], width, height, intrinsics, plans: batch.plans };
}
