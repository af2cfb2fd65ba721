import type { CameraDecoderConfig } from '../../config/schema.js';
import { Da3Error } from '../../errors.js';
import type { WeightProvider } from '../checkpoint.js';
import type { GraphBuilder, Value } from '../graph/builder.js';
import { concat, linear, toFloat32 } from '../graph/ops.js';

const P = 'cam_dec';

/** Width of the pose encoding: t xyz (3), quaternion xyzw (4), fov_h, fov_w (2). */
export const POSE_ENCODING_DIM = 9;

/**
 * The camera decoder (model/cam_dec.py `CameraDec`, called without `camera_encoding` as
 * da3.py `_process_camera_estimation` does) on the camera token of the last tapped backbone layer.
 *
 * `backbone` = Linear(D, D) → ReLU → Linear(D, D) → ReLU; then three linear heads on the same
 * hidden vector: `fc_t` → t (3), `fc_qvec` → q (4, xyzw, not normalised), and `fc_fov` (Linear → 2,
 * then ReLU) → (fov_h, fov_w) in radians. Each view is decoded on its own.
 *
 * @param cameraToken [B, S, D] (D = `cfg.dimIn` = backbone featureDim, 2·embedDim with cat_token),
 *   in the graph's float precision
 * @returns `pose_enc` [B, S, 9] float32: `[t of c2w (3), quat xyzw (4), fov_h, fov_w]`, the raw
 *   network output (tap `cam_dec.pose_enc`). The reference computes it with autocast disabled;
 *   fp16 graphs compute in fp16 and cast the result to float32.
 */
export function buildCameraDecoder(g: GraphBuilder, cameraToken: Value, w: WeightProvider, cfg: CameraDecoderConfig): Value {
  return g.scope('cam_dec', () => {
    const lin = (x: Value, name: string) => linear(g, x, w.get(`${P}.${name}.weight`), w.get(`${P}.${name}.bias`));
    const dims = w.get(`${P}.backbone.0.weight`).dims;
    if (dims[1] !== cfg.dimIn) {
      throw new Da3Error('BAD_CONFIG', `buildCameraDecoder: ${P}.backbone.0.weight is [${dims.join(', ')}], config dim_in is ${cfg.dimIn}`);
    }
    // Linear acts on the last axis, so [B, S, D] needs no flattening to [B·S, D].
    const h = g.scope('backbone', () => g.op('Relu', [lin(g.op('Relu', [lin(cameraToken, 'backbone.0')]), 'backbone.2')]));
    const t = g.scope('fc_t', () => lin(h, 'fc_t'));
    const q = g.scope('fc_qvec', () => lin(h, 'fc_qvec'));
    const fov = g.scope('fc_fov', () => g.op('Relu', [lin(h, 'fc_fov.0')]));
    const poseEnc = toFloat32(g, concat(g, [t, q, fov], -1));
    return g.tap('cam_dec.pose_enc', poseEnc, 'float32');
  });
}
