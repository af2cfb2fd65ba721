import type { CameraEncoderConfig } from '../../config/schema.js';
import { Da3Error } from '../../errors.js';
import type { WeightProvider } from '../checkpoint.js';
import type { GraphBuilder, Value } from '../graph/builder.js';
import { concat, gelu, layerNorm, linear, reshape, shapeOf, slice, softmax, toGraphFloat, transpose } from '../graph/ops.js';
import { layerScale } from './attention.js';

const P = 'cam_enc';

/** Image height and width in processed pixels, each an int64 [1] value (as sliced from a shape). */
export interface CameraImageSize {
  readonly imageH: Value;
  readonly imageW: Value;
}

/**
 * Rotation matrices → unit quaternions xyzw (scalar last), in-graph and branch-free, exactly as
 * model/utils/transform.py `mat_to_quat`: the four candidates built from
 * `q_abs = sqrt(max(0, [1+m00+m11+m22, 1+m00−m11−m22, 1−m00+m11−m22, 1−m00−m11+m22]))`
 * (summed left to right as the reference does), each divided by `2·max(q_abs_i, 0.1)`; the one
 * with the largest `q_abs` is kept (first index on ties, like `torch.argmax`), then negated when
 * its w < 0 (`standardize_quaternion`).
 *
 * The selection is arithmetic (a first-maximum one-hot mask from ReduceMax/Equal and a MatMul
 * with a strictly-triangular ones matrix, multiplied in and summed), so no ArgMax tie rule of an
 * execution provider is relied on. Works in float32.
 *
 * @param rotation [..., 3, 3] float32, row-major (any leading shape)
 * @returns [..., 4] float32 quaternions (x, y, z, w), w ≥ 0
 */
export function rotationToQuaternion(g: GraphBuilder, rotation: Value): Value {
  return g.scope('mat_to_quat', () => {
    const lead = g.op('Shape', [rotation], { end: -2 });
    const m = reshape(g, rotation, concat(g, [lead, g.int64([9])], 0));
    const e = (r: number, c: number) => slice(g, m, [3 * r + c], [3 * r + c + 1], [-1]);
    const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = [e(0, 0), e(0, 1), e(0, 2), e(1, 0), e(1, 1), e(1, 2), e(2, 0), e(2, 1), e(2, 2)];
    const one = g.float32([1], []);
    const add = (a: Value, b: Value) => g.op('Add', [a, b]);
    const sub = (a: Value, b: Value) => g.op('Sub', [a, b]);
    // [..., 4]: 1 ± m00 ± m11 ± m22, evaluated left to right like the reference.
    const diag = concat(
      g,
      [
        add(add(add(one, m00), m11), m22),
        sub(sub(add(one, m00), m11), m22),
        sub(add(sub(one, m00), m11), m22),
        add(sub(sub(one, m00), m11), m22),
      ],
      -1,
    );
    const qAbs = g.op('Sqrt', [g.op('Max', [diag, g.float32([0], [])])]);
    const q = (i: number) => slice(g, qAbs, [i], [i + 1], [-1]);
    const sq = (v: Value) => g.op('Mul', [v, v]);
    const row = (vals: Value[]) => g.op('Unsqueeze', [concat(g, vals, -1), g.int64([-2])]);
    // Candidates in (r, i, j, k) order, one per row: [..., 4, 4].
    const rijk = concat(
      g,
      [
        row([sq(q(0)), sub(m21, m12), sub(m02, m20), sub(m10, m01)]),
        row([sub(m21, m12), sq(q(1)), add(m10, m01), add(m02, m20)]),
        row([sub(m02, m20), add(m10, m01), sq(q(2)), add(m12, m21)]),
        row([sub(m10, m01), add(m20, m02), add(m21, m12), sq(q(3))]),
      ],
      -2,
    );
    const denom = g.op('Mul', [g.float32([2], []), g.op('Max', [qAbs, g.float32([0.1], [])])]);
    const candidates = g.op('Div', [rijk, g.op('Unsqueeze', [denom, g.int64([-1])])]);
    // First maximum of q_abs as a one-hot [..., 4]: isMax minus the ones preceded by another max.
    const isMax = g.op('Cast', [g.op('Equal', [qAbs, g.op('ReduceMax', [qAbs], { axes: [-1], keepdims: 1 })])], { to: 1 });
    const before = g.float32([0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0], [4, 4]);
    const earlier = g.op('MatMul', [isMax, before]);
    const first = g.op('Mul', [isMax, g.op('Cast', [g.op('Equal', [earlier, g.float32([0], [])])], { to: 1 })]);
    const picked = g.op('ReduceSum', [g.op('Mul', [candidates, g.op('Unsqueeze', [first, g.int64([-1])])]), g.int64([-2])], { keepdims: 0 });
    const xyzw = g.op('Gather', [picked, g.int64([1, 2, 3, 0])], { axis: -1 });
    const w = slice(g, xyzw, [3], [4], [-1]);
    return g.op('Where', [g.op('Less', [w, g.float32([0], [])]), g.op('Neg', [xyzw]), xyzw]);
  });
}

/**
 * The pose encoding the camera encoder consumes (cam_enc.py `CameraEnc.forward` →
 * transform.py `extri_intri_to_pose_encoding`), in float32:
 * `c2w = affine_inverse(w2c)` (the rigid inverse `[Rᵀ | −Rᵀ·t]`, as the reference, not a general
 * matrix inverse), then `[t of c2w (3), quaternion xyzw of its R (4), fov_h, fov_w]` with
 * `fov_h = 2·atan((H/2)/fy)`, `fov_w = 2·atan((W/2)/fx)` (radians).
 *
 * @param extrinsics [B, S, 4, 4] (or [B, S, 3, 4]) float32 world→camera, already normalised as
 *   api.py `_normalize_extrinsics` does; only rows 0..2 are read
 * @param intrinsics [B, S, 3, 3] float32 in processed-image pixels (only fx, fy are read)
 * @param size image height and width (int64 [1] each), in processed pixels
 * @returns [B, S, 9] float32 (tap `cam_enc.pose_encoding`)
 */
export function cameraPoseEncoding(g: GraphBuilder, extrinsics: Value, intrinsics: Value, size: CameraImageSize): Value {
  return g.scope('pose_encoding', () => {
    const r = slice(g, extrinsics, [0, 0], [3, 3], [-2, -1]);
    const t = slice(g, extrinsics, [0, 3], [3, 4], [-2, -1]);
    const rT = transpose(g, r, [0, 1, 3, 2]);
    // affine_inverse: translation −Rᵀ·t, computed as (−Rᵀ) @ t like the reference.
    const c2wT = g.op('Squeeze', [g.op('MatMul', [g.op('Neg', [rT]), t]), g.int64([-1])]);
    const quat = rotationToQuaternion(g, rT);
    const k = reshape(g, intrinsics, [0, 0, 9]);
    const fx = slice(g, k, [0], [1], [-1]);
    const fy = slice(g, k, [4], [5], [-1]);
    const half = (v: Value) => g.op('Mul', [g.op('Cast', [v], { to: 1 }), g.float32([0.5], [])]);
    const fov = (extent: Value, focal: Value) => g.op('Mul', [g.float32([2], []), g.op('Atan', [g.op('Div', [half(extent), focal])])]);
    return g.tap('cam_enc.pose_encoding', concat(g, [c2wT, quat, fov(size.imageH, fy), fov(size.imageW, fx)], -1), 'float32');
  });
}

/**
 * Multi-head self-attention of a trunk block (utils/attention.py `Attention`: qkv with bias,
 * no QK-norm, no RoPE, scale head_dim^−½) across the S view tokens of each batch item.
 * @param x [B, S, D] → [B, S, D]
 */
function viewAttention(g: GraphBuilder, x: Value, w: WeightProvider, prefix: string, dim: number, heads: number): Value {
  return g.scope('attn', () => {
    const hd = dim / heads;
    const qkv = reshape(g, linear(g, x, w.get(`${prefix}.qkv.weight`), w.get(`${prefix}.qkv.bias`)), [0, 0, 3, heads, hd]);
    const pick = (i: number) => g.op('Squeeze', [slice(g, qkv, [i], [i + 1], [2]), g.int64([2])]);
    const q = transpose(g, g.op('Mul', [pick(0), g.floatConst([hd ** -0.5], [])]), [0, 2, 1, 3]);
    const kT = transpose(g, pick(1), [0, 2, 3, 1]);
    const v = transpose(g, pick(2), [0, 2, 1, 3]);
    const p = softmax(g, g.op('MatMul', [q, kT]), -1);
    const out = reshape(g, transpose(g, g.op('MatMul', [p, v]), [0, 2, 1, 3]), [0, 0, dim]);
    return linear(g, out, w.get(`${prefix}.proj.weight`), w.get(`${prefix}.proj.bias`));
  });
}

/**
 * The camera encoder (model/cam_enc.py `CameraEnc`) for pose-conditioned inference: the pose
 * encoding of each view ({@link cameraPoseEncoding}) → `pose_branch` Mlp (9 → D/2, exact GELU,
 * → D) → `token_norm` → `trunk` (`trunkDepth` pre-norm ViT blocks: LayerNorm, attention with
 * `numHeads` (16) heads across the S views of a batch item, LayerScale, Mlp with GELU, LayerScale)
 * → `trunk_norm`. The result replaces token 0 of every view at the backbone's alt_start.
 *
 * @param extrinsics [B, S, 4, 4] float32 world→camera, normalised by the caller (api.py
 *   `_normalize_extrinsics`: view 0 = identity, translations / max(median camera distance, 0.1))
 * @param intrinsics [B, S, 3, 3] float32, processed-image pixels
 * @param image either the images tensor [B, S, 3, H, W] (H and W are read from its shape) or
 *   the image height and width as int64 [1] values
 * @returns camera tokens [B, S, D] in the graph's float precision (tap `cam_enc.tokens`); the
 *   pose encoding stays float32 and is cast before the pose branch
 */
export function buildCameraEncoder(
  g: GraphBuilder,
  extrinsics: Value,
  intrinsics: Value,
  image: Value | CameraImageSize,
  w: WeightProvider,
  cfg: CameraEncoderConfig,
): Value {
  return g.scope('cam_enc', () => {
    const D = cfg.dimOut;
    if (D % cfg.numHeads !== 0) throw new Da3Error('BAD_CONFIG', `buildCameraEncoder: ${cfg.numHeads} heads do not divide dim_out ${D}`);
    const fc1 = w.get(`${P}.pose_branch.fc1.weight`).dims;
    if (fc1[1] !== cfg.dimIn || fc1[0] !== cfg.poseBranchHidden) {
      throw new Da3Error('BAD_CONFIG', `buildCameraEncoder: ${P}.pose_branch.fc1.weight is [${fc1.join(', ')}], config expects [${cfg.poseBranchHidden}, ${cfg.dimIn}]`);
    }
    const size: CameraImageSize =
      typeof image === 'string' ? { imageH: shapeOf(g, image, 3, 4), imageW: shapeOf(g, image, 4, 5) } : image;
    const poseEncoding = cameraPoseEncoding(g, extrinsics, intrinsics, size);
    const lin = (x: Value, name: string) => linear(g, x, w.get(`${name}.weight`), w.get(`${name}.bias`));
    const mlp = (x: Value, prefix: string) => lin(gelu(g, lin(x, `${prefix}.fc1`)), `${prefix}.fc2`);
    const ln = (x: Value, name: string, eps: number) => layerNorm(g, x, w.get(`${name}.weight`), w.get(`${name}.bias`), eps);

    let x = g.scope('pose_branch', () => mlp(toGraphFloat(g, poseEncoding), `${P}.pose_branch`));
    x = g.scope('token_norm', () => ln(x, `${P}.token_norm`, cfg.tokenNormEps));
    for (let i = 0; i < cfg.trunkDepth; i++) {
      const bp = `${P}.trunk.${i}`;
      const ls = (name: string) => (cfg.layerscale ? w.get(`${bp}.${name}.gamma`) : null);
      x = g.scope(`trunk.${i}`, () => {
        const a = viewAttention(g, ln(x, `${bp}.norm1`, cfg.lnEps), w, `${bp}.attn`, D, cfg.numHeads);
        const x1 = g.op('Add', [x, layerScale(g, a, ls('ls1'))]);
        const m = g.scope('mlp', () => mlp(ln(x1, `${bp}.norm2`, cfg.lnEps), `${bp}.mlp`));
        return g.op('Add', [x1, layerScale(g, m, ls('ls2'))]);
      });
    }
    x = g.scope('trunk_norm', () => ln(x, `${P}.trunk_norm`, cfg.lnEps));
    return g.tap('cam_enc.tokens', x);
  });
}
