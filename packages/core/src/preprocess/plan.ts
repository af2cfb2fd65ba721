/**
 * Resize plans: the reference's preprocessing geometry as pure arithmetic on sizes (no pixels).
 *
 * Mirrors `InputProcessor` of `src/depth_anything_3/utils/io/input_processor.py` (DA3 @ 2c21ea8):
 * 1. boundary resize so that the longest (`upper_bound_*`) or shortest (`lower_bound_*`) side
 *    becomes `processRes`;
 * 2. make both sides multiples of 14, by a small resize (`*_resize`) or a centre crop (`*_crop`);
 * 3. for a batch whose views ended at different sizes, a centre crop of every view to
 *    (min H, min W).
 *
 * Sizes are in pixels, `width` before `height` everywhere in this module (the reference's PIL
 * `(w, h)` order); tensors built from a plan are `[3, height, width]`.
 */
import { Da3Error } from '../errors.js';
import { roundHalfEven } from './rounding.js';

/**
 * How an image is brought to the processing resolution (`process_res_method` in the reference):
 * - `upper_bound_resize` (default): longest side → processRes, then each side resized to the
 *   nearest multiple of 14;
 * - `upper_bound_crop`: longest side → processRes, then each side centre-cropped down to a
 *   multiple of 14;
 * - `lower_bound_resize`: shortest side → processRes, then resized to multiples of 14;
 * - `lower_bound_crop`: shortest side → processRes, then centre-cropped to multiples of 14.
 */
export type ResizeMethod = 'upper_bound_resize' | 'upper_bound_crop' | 'lower_bound_resize' | 'lower_bound_crop';

/** Every {@link ResizeMethod}, in the reference's documentation order. */
export const RESIZE_METHODS: readonly ResizeMethod[] = Object.freeze([
  'upper_bound_resize',
  'upper_bound_crop',
  'lower_bound_resize',
  'lower_bound_crop',
] as const);

/** The reference's default processing resolution (pixels of the bounded side). */
export const DEFAULT_PROCESS_RES = 504;

/** The reference's default {@link ResizeMethod}. */
export const DEFAULT_RESIZE_METHOD: ResizeMethod = 'upper_bound_resize';

/** Processed sides are multiples of this (the ViT patch size, in pixels). */
export const PREPROCESS_SIZE_MULTIPLE = 14;

/**
 * Largest accepted `processRes` in pixels. DA3 is trained at 504; 4096 is far beyond any useful
 * setting and keeps one processed view's float32 tensor under 200 MB.
 */
export const MAX_PROCESS_RES = 4096;

/**
 * Largest side of a processed image in pixels (the `lower_bound_*` methods on a very elongated
 * image can exceed `processRes`): checked on the plan, before any pixel is allocated.
 */
export const MAX_PROCESSED_SIDE = 8192;

/**
 * The resampling filter of a resize step, as the reference picks it for `cv2.resize`:
 * `area` = `cv2.INTER_AREA` (only ever used when no side grows), `cubic` = `cv2.INTER_CUBIC`.
 */
export type ResizeInterpolation = 'area' | 'cubic';

/** A resize of the whole image from `inWidth×inHeight` to `width×height` pixels. */
export interface ResizeStep {
  readonly op: 'resize';
  /** `boundary`: the processRes resize; `divisible`: the round-to-multiple-of-14 resize. */
  readonly stage: 'boundary' | 'divisible';
  readonly inWidth: number;
  readonly inHeight: number;
  readonly width: number;
  readonly height: number;
  readonly interpolation: ResizeInterpolation;
}

/**
 * A crop of the `width×height` window whose top-left pixel is (`left`, `top`) out of an
 * `inWidth×inHeight` image (all in pixels).
 */
export interface CropStep {
  readonly op: 'crop';
  /** `divisible`: the floor-to-multiple-of-14 centre crop; `batch`: the mixed-size batch crop. */
  readonly stage: 'divisible' | 'batch';
  readonly inWidth: number;
  readonly inHeight: number;
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** One geometric step of a {@link PreprocessPlan}. */
export type PreprocessStep = ResizeStep | CropStep;

/**
 * What preprocessing does to one image, as sizes only. Apply it to pixels with `applyPlan`, to
 * intrinsics with {@link adjustIntrinsics}.
 */
export interface PreprocessPlan {
  readonly method: ResizeMethod;
  /** Processing resolution in pixels (the bounded side after the boundary resize). */
  readonly processRes: number;
  /** Size of the input image (pixels). */
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Size after the boundary resize (equal to the input when that resize is skipped). */
  readonly boundaryWidth: number;
  readonly boundaryHeight: number;
  /** Final processed size (pixels): positive multiples of 14. */
  readonly width: number;
  readonly height: number;
  /** The steps, in order; an empty list means the input is used unchanged. */
  readonly steps: readonly PreprocessStep[];
}

/** Options of {@link planPreprocess} and {@link planBatch}. */
export interface PlanOptions {
  /** Processing resolution in pixels, an integer ≥ 14 (default 504). */
  processRes?: number;
  /** Resize method (default `upper_bound_resize`). */
  method?: ResizeMethod;
}

/** The plans of a batch plus the common processed size (see {@link planBatch}). */
export interface BatchPlan {
  /** One plan per view, in input order, each ending at `width×height`. */
  readonly plans: readonly PreprocessPlan[];
  /** Common processed size of every view (pixels). */
  readonly width: number;
  readonly height: number;
  /** True when the views' own sizes differed and they were centre-cropped to the smallest. */
  readonly cropped: boolean;
}

/** Validates and fills in {@link PlanOptions}; throws `BAD_VALUE` naming the offending value. */
export function resolvePlanOptions(options: PlanOptions | undefined, fn: string): { processRes: number; method: ResizeMethod } {
  const processRes = options?.processRes ?? DEFAULT_PROCESS_RES;
  const method = options?.method ?? DEFAULT_RESIZE_METHOD;
  if (typeof processRes !== 'number' || !Number.isInteger(processRes) || processRes < PREPROCESS_SIZE_MULTIPLE || processRes > MAX_PROCESS_RES) {
    throw new Da3Error(
      'BAD_VALUE',
      `${fn}: processRes must be an integer in [${PREPROCESS_SIZE_MULTIPLE}, ${MAX_PROCESS_RES}] (MAX_PROCESS_RES), got ${String(processRes)}`,
    );
  }
  if (!RESIZE_METHODS.includes(method)) {
    throw new Da3Error('BAD_VALUE', `${fn}: unknown method ${JSON.stringify(method)}; expected one of ${RESIZE_METHODS.join(', ')}`);
  }
  return { processRes, method };
}

/** Throws unless `width`/`height` are positive integers (`EMPTY_INPUT` for 0, `BAD_SHAPE` otherwise). */
export function checkImageSize(width: number, height: number, fn: string, what = 'image'): void {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (v === 0) throw new Da3Error('EMPTY_INPUT', `${fn}: ${what} ${name} is 0 (size ${width}×${height})`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new Da3Error('BAD_SHAPE', `${fn}: ${what} ${name} must be a positive integer, got ${String(v)}`);
    }
  }
}

/** The reference's `nearest_multiple`: nearest multiple of `p`, ties going up. */
function nearestMultiple(x: number, p: number): number {
  const down = Math.floor(x / p) * p;
  const up = down + p;
  return up - x <= x - down ? up : down;
}

/**
 * Plans the preprocessing of one `width×height` image, exactly as the reference computes it:
 *
 * - Boundary resize: `scale = processRes / max(w, h)` (`upper_bound_*`) or `/ min(w, h)`
 *   (`lower_bound_*`); new side = `max(1, round(side · scale))` with Python's round-half-to-even;
 *   AREA when `scale ≤ 1`, CUBIC when `scale > 1`; skipped when the bound side already equals
 *   processRes.
 * - `*_resize`: each side to the nearest multiple of 14 (ties up, at least 1); CUBIC when either
 *   side grows, else AREA; skipped when nothing changes.
 * - `*_crop`: each side floored to a multiple of 14, centre crop at `((w − w')//2, (h − h')//2)`.
 *
 * Throws `BAD_SHAPE` when the result is not a positive multiple of 14 on both sides (an aspect
 * ratio beyond about processRes/7 : 1). The reference would go on and fail later inside the
 * network; stopping here is a deliberate, earlier failure.
 */
export function planPreprocess(width: number, height: number, options?: PlanOptions): PreprocessPlan {
  const fn = 'planPreprocess';
  checkImageSize(width, height, fn);
  const { processRes, method } = resolvePlanOptions(options, fn);
  const steps: PreprocessStep[] = [];

  // 1. Boundary resize.
  let w = width;
  let h = height;
  const bound = method.startsWith('upper_bound') ? Math.max(w, h) : Math.min(w, h);
  if (bound !== processRes) {
    const scale = processRes / bound;
    const nw = Math.max(1, roundHalfEven(w * scale));
    const nh = Math.max(1, roundHalfEven(h * scale));
    if (Math.max(nw, nh) > MAX_PROCESSED_SIDE) {
      throw new Da3Error(
        'OUT_OF_RANGE',
        `${fn}: a ${width}×${height} image would be resized to ${nw}×${nh} with ${method} at processRes ${processRes}; at most ${MAX_PROCESSED_SIDE} px a side (MAX_PROCESSED_SIDE). Use upper_bound_resize or a smaller processRes.`,
      );
    }
    steps.push({
      op: 'resize',
      stage: 'boundary',
      inWidth: w,
      inHeight: h,
      width: nw,
      height: nh,
      interpolation: scale > 1 ? 'cubic' : 'area',
    });
    w = nw;
    h = nh;
  }
  const boundaryWidth = w;
  const boundaryHeight = h;

  // 2. Multiples of 14.
  const p = PREPROCESS_SIZE_MULTIPLE;
  if (method.endsWith('_resize')) {
    const nw = Math.max(1, nearestMultiple(w, p));
    const nh = Math.max(1, nearestMultiple(h, p));
    if (nw !== w || nh !== h) {
      steps.push({
        op: 'resize',
        stage: 'divisible',
        inWidth: w,
        inHeight: h,
        width: nw,
        height: nh,
        interpolation: nw > w || nh > h ? 'cubic' : 'area',
      });
      w = nw;
      h = nh;
    }
  } else {
    const nw = Math.floor(w / p) * p;
    const nh = Math.floor(h / p) * p;
    if (nw !== w || nh !== h) {
      steps.push({
        op: 'crop',
        stage: 'divisible',
        inWidth: w,
        inHeight: h,
        left: Math.floor((w - nw) / 2),
        top: Math.floor((h - nh) / 2),
        width: nw,
        height: nh,
      });
      w = nw;
      h = nh;
    }
  }

  if (w < p || h < p || w % p !== 0 || h % p !== 0) {
    throw new Da3Error(
      'BAD_SHAPE',
      `${fn}: a ${width}×${height} image gives a ${w}×${h} processed image with ${method} at processRes ${processRes}; ` +
        `both sides must be positive multiples of ${p} (aspect ratio too extreme)`,
    );
  }

  return {
    method,
    processRes,
    inputWidth: width,
    inputHeight: height,
    boundaryWidth,
    boundaryHeight,
    width: w,
    height: h,
    steps: Object.freeze(steps),
  };
}

/**
 * Plans a batch: one {@link planPreprocess} per `{ width, height }`, then the reference's rule for
 * mixed sizes (`_unify_batch_shapes`): when the views' processed sizes differ, every view is
 * centre-cropped to (min H, min W) over the batch, at offset `((W − minW)//2, (H − minH)//2)`.
 * (torchvision's CenterCrop, which crops the pixels, rounds `(H − minH)/2` half to even while the
 * reference shifts cx, cy by `(H − minH)//2`; the two agree here because every difference is a
 * multiple of 14, hence even.) Throws `EMPTY_INPUT` for an empty list.
 */
export function planBatch(sizes: ReadonlyArray<{ readonly width: number; readonly height: number }>, options?: PlanOptions): BatchPlan {
  const fn = 'planBatch';
  if (!sizes || sizes.length === 0) throw new Da3Error('EMPTY_INPUT', `${fn}: no images (got ${sizes ? 0 : String(sizes)})`);
  const plans = sizes.map((s, i) => {
    try {
      return planPreprocess(s.width, s.height, options);
    } catch (e) {
      if (e instanceof Da3Error) throw new Da3Error(e.code, `${fn}: image ${i}: ${e.message}`, { cause: e });
      throw e;
    }
  });
  const same = plans.every((pl) => pl.width === plans[0].width && pl.height === plans[0].height);
  if (same) return { plans, width: plans[0].width, height: plans[0].height, cropped: false };

  const minW = Math.min(...plans.map((pl) => pl.width));
  const minH = Math.min(...plans.map((pl) => pl.height));
  const cropped = plans.map((pl): PreprocessPlan => {
    if (pl.width === minW && pl.height === minH) return pl;
    const crop: CropStep = {
      op: 'crop',
      stage: 'batch',
      inWidth: pl.width,
      inHeight: pl.height,
      left: Math.floor((pl.width - minW) / 2),
      top: Math.floor((pl.height - minH) / 2),
      width: minW,
      height: minH,
    };
    return { ...pl, width: minW, height: minH, steps: Object.freeze([...pl.steps, crop]) };
  });
  return { plans: cropped, width: minW, height: minH, cropped: true };
}

/** True for the arrays whose arithmetic {@link adjustIntrinsics} performs in float32. */
function isFloat32(k: ArrayLike<number>): boolean {
  return k instanceof Float32Array;
}

/**
 * Applies a plan's steps to a 3×3 row-major pinhole matrix `K` (pixels), as the reference does:
 * a resize multiplies row 0 (fx, skew, cx) by `w'/w` and row 1 (fy, cy) by `h'/h` — no half-pixel
 * shift; a crop subtracts `left` from cx and `top` from cy.
 *
 * Precision follows numpy on the reference side: a `Float32Array` is treated like a float32
 * array (each ratio rounded to float32, every product and difference rounded to float32), any
 * other array like a float64 one. The result is float32 either way, as the reference returns
 * `torch.float32` intrinsics.
 *
 * Throws `BAD_SHAPE` unless `K` has 9 numbers and `NON_FINITE` for NaN/±Infinity entries.
 */
export function adjustIntrinsics(K: ArrayLike<number>, plan: PreprocessPlan): Float32Array {
  const fn = 'adjustIntrinsics';
  if (K?.length !== 9) throw new Da3Error('BAD_SHAPE', `${fn}: K must have 9 numbers (3×3 row-major), got ${K ? K.length : String(K)}`);
  for (let i = 0; i < 9; i++) {
    if (!Number.isFinite(K[i])) throw new Da3Error('NON_FINITE', `${fn}: K[${i}] is ${K[i]}`);
  }
  const f32 = isFloat32(K);
  const r: (x: number) => number = f32 ? Math.fround : (x) => x;
  const k = Float64Array.from(K);
  for (const step of plan.steps) {
    if (step.op === 'resize') {
      const sx = r(step.width / step.inWidth);
      const sy = r(step.height / step.inHeight);
      for (let c = 0; c < 3; c++) {
        k[c] = r(k[c] * sx);
        k[3 + c] = r(k[3 + c] * sy);
      }
    } else {
      k[2] = r(k[2] - step.left);
      k[5] = r(k[5] - step.top);
    }
  }
  return Float32Array.from(k);
}
