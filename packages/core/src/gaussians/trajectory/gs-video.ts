import { Da3Error } from '../../errors.js';
import type { Prediction } from '../../prediction/prediction.js';
import type { RenderCamera } from '../render/types.js';
import { f32 } from './f32.js';
import type { CameraPath } from './paths.js';
import { type TrajectoryMode, isTrajectoryMode, novelViewTrajectory, renderCameras, TRAJECTORY_MODES } from './trajectory.js';

/** The reference's video frame rate (`fps = 24` in `export_to_gs_video`). */
export const GS_VIDEO_FPS = 24;

/** Options choosing a `gs_video`'s cameras (the reference's `render_exts`, `render_ixts`, `render_hw`, `trj_mode`). */
export interface GsVideoCameraOptions {
  /** Trajectory (default `'extend'`); a single view always renders `'wander'`. */
  readonly trajectory?: TrajectoryMode;
  /**
   * `render_exts`: world→camera `[V, 3, 4]` or `[V, 4, 4]` to build the trajectory from instead of
   * the predicted cameras, in the Gaussians' units (no NESTED scale division is applied to them).
   */
  readonly renderExtrinsics?: ArrayLike<number>;
  /**
   * `render_ixts`: `[V, 3, 3]` intrinsics in pixels of the render size (default: the predicted
   * intrinsics, which must then be as many as the extrinsics).
   */
  readonly renderIntrinsics?: ArrayLike<number>;
  /**
   * `render_hw`: the video's frame size before the depth panel (default: the processed image size).
   * Like the reference, the intrinsics are read as pixels of this size: predicted intrinsics with a
   * larger `renderSize` keep their pixel focal length and so widen the view.
   */
  readonly renderSize?: { readonly height: number; readonly width: number };
}

/** What a `gs_video` renders: the trajectory, its cameras and the file's name. */
export interface GsVideoPlan {
  /** The trajectory actually used (`'wander'` for a single view). */
  readonly mode: TrajectoryMode;
  /** `0000_<mode>`, the reference's file stem. */
  readonly name: string;
  /** Render size (each frame's colour panel). */
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Camera→world poses and normalised intrinsics per frame. */
  readonly trajectory: CameraPath;
  /** The cameras to rasterize, one per frame. */
  readonly cameras: readonly RenderCamera[];
}

/**
 * The cameras of the reference's `export_to_gs_video`: the predicted cameras (NESTED: the
 * translations divided by the metric scale factor, back into the Gaussians' units) or
 * `renderExtrinsics`/`renderIntrinsics`, at the processed size or `renderSize`, along the
 * trajectory (`'wander'` when there is one view). The prediction is not changed (the reference
 * divides `prediction.extrinsics` in place, which later exports of the same call would see).
 * @throws Da3Error `BAD_VALUE` for a prediction without cameras, a bad option or a trajectory that
 *   cannot be built (see {@link novelViewTrajectory}), `BAD_SHAPE` for mismatched arrays
 */
export function gsVideoPlan(prediction: Pick<Prediction, 'views' | 'height' | 'width' | 'extrinsics' | 'intrinsics' | 'isMetric' | 'scaleFactor'>, options: GsVideoCameraOptions = {}): GsVideoPlan {
  const fn = 'gsVideoPlan';
  const requested = options.trajectory ?? 'extend';
  if (!isTrajectoryMode(requested)) throw new Da3Error('BAD_VALUE', `${fn}: unknown trajectory "${String(requested)}"; one of ${TRAJECTORY_MODES.join(', ')}`);
  let extrinsics: ArrayLike<number>;
  if (options.renderExtrinsics) {
    extrinsics = options.renderExtrinsics;
  } else {
    if (!prediction.extrinsics) throw new Da3Error('BAD_VALUE', `${fn}: the prediction has no cameras (mono/metric models); pass renderExtrinsics and renderIntrinsics`);
    const e = Float64Array.from(prediction.extrinsics);
    const s = prediction.isMetric ? prediction.scaleFactor : null;
    if (s) for (let v = 0; v < prediction.views; v++) for (const i of [3, 7, 11]) e[v * 12 + i] = f32(e[v * 12 + i] / s);
    extrinsics = e;
  }
  const intrinsics = options.renderIntrinsics ?? prediction.intrinsics;
  if (!intrinsics) throw new Da3Error('BAD_VALUE', `${fn}: the prediction has no intrinsics; pass renderIntrinsics`);
  const views = intrinsics.length / 9;
  if (extrinsics.length !== views * 12 && extrinsics.length !== views * 16) {
    throw new Da3Error('BAD_SHAPE', `${fn}: extrinsics hold ${extrinsics.length} numbers, expected [${views}, 3, 4] or [${views}, 4, 4] for ${views} intrinsics (pass renderIntrinsics with one 3×3 per render camera)`);
  }
  const size = options.renderSize ?? { height: prediction.height, width: prediction.width };
  if (!(Number.isInteger(size.height) && size.height > 0 && Number.isInteger(size.width) && size.width > 0)) {
    throw new Da3Error('BAD_VALUE', `${fn}: renderSize must be positive integers, got ${size.width}×${size.height}`);
  }
  const mode: TrajectoryMode = views <= 1 ? 'wander' : requested;
  const trajectory = novelViewTrajectory(extrinsics, intrinsics, size, { mode });
  return {
    mode,
    name: `0000_${mode}`,
    width: size.width,
    height: size.height,
    fps: GS_VIDEO_FPS,
    trajectory,
    cameras: renderCameras(trajectory, size.width, size.height),
  };
}
