import { alignPosesUmeyama } from '../align/poses.js';
import { Da3Error, isDa3Error } from '../errors.js';

/**
 * The pose-scale correction of the reference's Gaussian adapter (`gs_adapter.py`, step 1.2): with
 * known cameras, the Gaussians are built in the frame of the *predicted* cameras, but brought to the
 * scale of the given (normalised) ones by the Umeyama Sim(3) scale between the two trajectories.
 */

/** Result of {@link gaussianPoseScale}. */
export interface GaussianPoseScale {
  /**
   * The raw Umeyama scale (before the adapter's clamp to [1/3, 3]); 1 when the cameras are
   * identical or the alignment failed.
   */
  readonly scale: number;
  /**
   * `umeyama`: aligned; `identical`: the predicted cameras equal the given ones bit for bit (the
   * reference's `torch.equal` skip); `failed`: Umeyama was impossible (fewer than 3 views,
   * coincident or collinear centres) and the reference's `except` falls back to 1.
   */
  readonly method: 'umeyama' | 'identical' | 'failed';
  /** The Sim(3) rotation (row-major 3×3) and translation of the alignment, or null unless `umeyama`. */
  readonly R: Float64Array | null;
  readonly t: Float64Array | null;
}

/**
 * The scale the reference's `GaussianAdapter` applies when `gt_extrinsics` are given:
 * `batch_align_poses_umeyama(gt.float(), pred.float())` — the evo Umeyama Sim(3) mapping the
 * predicted camera centres onto the given ones, in float32 4×4 as the reference runs it — or 1
 * when the two are equal or the alignment raises. Pass the result as the adapter's `poseScale`
 * (which clamps it to [1/3, 3]).
 *
 * @param givenExtrinsics the world→camera extrinsics the network was conditioned on (the
 *   normalised input cameras), `[N, 4, 4]` or `[N, 3, 4]`
 * @param predictedExtrinsics the network's predicted world→camera extrinsics, `[N, 3, 4]` or `[N, 4, 4]`
 * @throws Da3Error `BAD_SHAPE` for array sizes, `NON_FINITE` for NaN/±Infinity
 */
export function gaussianPoseScale(givenExtrinsics: ArrayLike<number>, predictedExtrinsics: ArrayLike<number>, views: number): GaussianPoseScale {
  const fn = 'gaussianPoseScale';
  if (!Number.isInteger(views) || views <= 0) throw new Da3Error('BAD_VALUE', `${fn}: views must be a positive integer, got ${views}`);
  const gt = homogeneousF32(fn, 'givenExtrinsics', givenExtrinsics, views);
  const pred = homogeneousF32(fn, 'predictedExtrinsics', predictedExtrinsics, views);
  let equal = true;
  for (let i = 0; i < gt.length && equal; i++) equal = gt[i] === pred[i];
  if (equal) return { scale: 1, method: 'identical', R: null, t: null };
  try {
    const sim = alignPosesUmeyama(gt, pred, views);
    return { scale: sim.scale, method: 'umeyama', R: sim.R, t: sim.t };
  } catch (e) {
    if (isDa3Error(e) && e.code === 'DEGENERATE') return { scale: 1, method: 'failed', R: null, t: null };
    throw e;
  }
}

/** `as_homogeneous(x).float()`: N×4×4 float32 from N×3×4 or N×4×4. */
function homogeneousF32(fn: string, name: string, ext: ArrayLike<number>, views: number): Float32Array {
  const stride = ext?.length === 12 * views ? 12 : ext?.length === 16 * views ? 16 : 0;
  if (!stride) throw new Da3Error('BAD_SHAPE', `${fn}: ${name} must be [${views}, 3, 4] or [${views}, 4, 4], got ${ext ? `length ${ext.length}` : ext}`);
  const out = new Float32Array(16 * views);
  for (let v = 0; v < views; v++) {
    for (let i = 0; i < stride; i++) {
      const x = ext[v * stride + i];
      if (!Number.isFinite(x)) throw new Da3Error('NON_FINITE', `${fn}: ${name} must be finite, got ${x} at index ${v * stride + i}`);
      out[16 * v + i] = x;
    }
    if (stride === 12) out[16 * v + 15] = 1;
  }
  return out;
}
