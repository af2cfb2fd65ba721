import { Da3Error } from '../errors.js';
import { affineInverse } from './matrix.js';
import type { ReadonlyNumArray } from './types.js';
import { assertFinite, assertPositiveInt, rigidStride } from './validate.js';

/** Lower clamp on the median camera distance in {@link normalizeExtrinsicsForConditioning}. */
export const NORMALIZE_EXTRINSICS_MIN_SCALE = 0.1;

/** Result of {@link normalizeExtrinsicsForConditioning}. */
export interface NormalizedExtrinsics {
  /** Normalised world→camera extrinsics `[N, 4, 4]` row-major (view 0 is the identity). */
  w2c: Float64Array;
  /**
   * The divisor applied to every translation: `max(lowerMedian(‖camera centres‖), 0.1)`, measured
   * after view 0 was made the origin (world units of the input).
   */
  scale: number;
}

/**
 * Normalises user extrinsics before pose conditioning, exactly as the reference API does
 * (`api.py` `DepthAnything3._normalize_extrinsics`):
 *
 * 1. `ext'ᵢ = extᵢ · affine_inverse(ext₀)` (4×4 products), so view 0 becomes the identity and
 *    the world frame is camera 0's frame (OpenCV axes: x right, y down, z forward);
 * 2. camera centres `cᵢ = −Rᵢ'ᵀ tᵢ'` (from `affine_inverse(ext')`), distances `‖cᵢ‖`;
 * 3. `scale = max(median(‖c‖), 0.1)` where the median is torch's: the **lower** of the two middle
 *    values for an even count;
 * 4. every translation column `ext'ᵢ[:3, 3]` is divided by `scale`.
 *
 * The rotation blocks are not re-orthogonalised; `affine_inverse` assumes each input rotation is
 * orthonormal (the last row of `ext₀`, `[0,0,0,1]` for rigid inputs, is kept as the reference does).
 * Computed in float64.
 *
 * @param w2c world→camera extrinsics of `views` cameras, `[N, 3, 4]` or `[N, 4, 4]` row-major
 *   (3×4 inputs get the row `[0, 0, 0, 1]`, as `as_homogeneous` does).
 * @param views N, the number of cameras (needed because 48 numbers could be 3×4×4 or 4×3×4).
 * @returns `{ w2c: [N, 4, 4], scale }`.
 * @throws Da3Error `BAD_VALUE` (views), `BAD_SHAPE`, `NON_FINITE`.
 */
export function normalizeExtrinsicsForConditioning(w2c: ReadonlyNumArray, views: number): NormalizedExtrinsics {
  const fn = 'normalizeExtrinsicsForConditioning';
  assertPositiveInt(fn, 'views', views);
  const stride = rigidStride(fn, 'w2c', w2c, views);
  assertFinite(fn, 'w2c', w2c);
  const ex = new Float64Array(16 * views);
  for (let b = 0; b < views; b++) {
    for (let i = 0; i < 12; i++) ex[16 * b + i] = w2c[stride * b + i];
    if (stride === 16) {
      for (let i = 12; i < 16; i++) ex[16 * b + i] = w2c[stride * b + i];
    } else {
      ex[16 * b + 15] = 1;
    }
  }
  // transform = affine_inverse(ex[0]) (4×4: [Rᵀ | −Rᵀt] over ex0's own last row)
  const t = affineInverse(new Float64Array(16), ex.subarray(0, 16));
  const out = new Float64Array(16 * views);
  const dists = new Float64Array(views);
  for (let b = 0; b < views; b++) {
    const a = 16 * b;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        out[a + 4 * i + j] =
          ex[a + 4 * i] * t[j] + ex[a + 4 * i + 1] * t[4 + j] + ex[a + 4 * i + 2] * t[8 + j] + ex[a + 4 * i + 3] * t[12 + j];
      }
    }
    // camera centre of the normalised pose: −Rᵀ t
    const tx = out[a + 3], ty = out[a + 7], tz = out[a + 11];
    const cx = -(out[a] * tx + out[a + 4] * ty + out[a + 8] * tz);
    const cy = -(out[a + 1] * tx + out[a + 5] * ty + out[a + 9] * tz);
    const cz = -(out[a + 2] * tx + out[a + 6] * ty + out[a + 10] * tz);
    dists[b] = Math.sqrt(cx * cx + cy * cy + cz * cz);
  }
  const sorted = Float64Array.from(dists).sort();
  const median = sorted[(views - 1) >> 1];
  const scale = Math.max(median, NORMALIZE_EXTRINSICS_MIN_SCALE);
  if (!Number.isFinite(scale)) throw new Da3Error('NON_FINITE', `${fn}: median camera distance is ${scale}`);
  for (let b = 0; b < views; b++) {
    out[16 * b + 3] /= scale;
    out[16 * b + 7] /= scale;
    out[16 * b + 11] /= scale;
  }
  return { w2c: out, scale };
}
