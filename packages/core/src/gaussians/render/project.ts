import { GSPLAT_CONSTANTS } from './constants.js';
import type { RasterFrame, RasterScene } from './frame.js';

/**
 * Layout of one projected Gaussian ("splat") in a Float32Array, {@link SPLAT_STRIDE} floats each.
 * A splat with `RX = 0` is culled (gsplat's `radii == 0`).
 */
export const SPLAT = Object.freeze({
  /** Projected centre, pixels. */
  MX: 0,
  MY: 1,
  /** Conic (inverse 2D covariance) `[a, b, c]`: sigma = ½(a dx² + c dy²) + b dx dy. */
  CA: 2,
  CB: 3,
  CC: 4,
  OPACITY: 5,
  /** Colour after SH: `max(SH(dir) + 0.5, 0)`. */
  R: 6,
  G: 7,
  B: 8,
  /** Camera z of the centre. */
  DEPTH: 9,
  /** Integer bounding-box half extents, pixels (0: culled). */
  RX: 10,
  RY: 11,
  /** `ln(255·opacity)`: sigma above this means alpha < 1/255. */
  SIGMA_MAX: 12,
});
/** Floats per splat. */
export const SPLAT_STRIDE = 13;

// Sloan's SH basis constants, as in gsplat's `_eval_sh_bases_fast` / `sh_coeffs_to_color_fast`.
const SH_C0 = 0.2820947917738781;
const SH_C1 = 0.48860251190292;

/**
 * Projects Gaussians `[start, end)` of `scene` for `frame` into `out` (splats, {@link SPLAT}
 * layout), as gsplat's `fully_fused_projection` (pinhole, EWA, `eps2d` blur, opacity-aware
 * bounding box) followed by `spherical_harmonics` on `means − camera centre` and
 * `max(colour + 0.5, 0)`.
 *
 * Culled (RX = RY = 0): centre z outside [near, far]; blurred 2D covariance with det ≤ 0;
 * opacity < 1/255; bounding box entirely off the image; anything not finite.
 *
 * Arithmetic is float64, results are stored as float32 (as gsplat's tensors are).
 */
export function projectSplats(scene: RasterScene, frame: RasterFrame, start: number, end: number, out: Float32Array): void {
  const means = scene.means;
  const scales = scene.scales;
  const rotations = scene.rotations;
  const harmonics = scene.harmonics;
  const opacities = scene.opacities;
  const K = scene.shCoefficients;
  const rot = frame.rotation;
  const r00 = rot[0];
  const r01 = rot[1];
  const r02 = rot[2];
  const r10 = rot[3];
  const r11 = rot[4];
  const r12 = rot[5];
  const r20 = rot[6];
  const r21 = rot[7];
  const r22 = rot[8];
  const t0 = frame.translation[0];
  const t1 = frame.translation[1];
  const t2 = frame.translation[2];
  const ccx = frame.cameraCentre[0];
  const ccy = frame.cameraCentre[1];
  const ccz = frame.cameraCentre[2];
  const fx = frame.fx;
  const fy = frame.fy;
  const cx = frame.cx;
  const cy = frame.cy;
  const near = frame.near;
  const far = frame.far;
  const eps2d = frame.eps2d;
  const width = frame.width;
  const height = frame.height;
  const shDegree = frame.shDegree;
  const tanFovX = (0.5 * width) / fx;
  const tanFovY = (0.5 * height) / fy;
  const m = GSPLAT_CONSTANTS.jacobianFovMargin;
  const limXPos = (width - cx) / fx + m * tanFovX;
  const limXNeg = cx / fx + m * tanFovX;
  const limYPos = (height - cy) / fy + m * tanFovY;
  const limYNeg = cy / fy + m * tanFovY;
  const alphaThreshold = GSPLAT_CONSTANTS.alphaThreshold;
  const maxExtend = GSPLAT_CONSTANTS.radiusSigmas;

  for (let g = start; g < end; g++) {
    const o = g * SPLAT_STRIDE;
    out[o + SPLAT.RX] = 0;
    out[o + SPLAT.RY] = 0;
    const px = means[3 * g];
    const py = means[3 * g + 1];
    const pz = means[3 * g + 2];
    // world → camera
    const x = r00 * px + r01 * py + r02 * pz + t0;
    const y = r10 * px + r11 * py + r12 * pz + t1;
    const z = r20 * px + r21 * py + r22 * pz + t2;
    if (!(z >= near && z <= far)) continue; // gsplat: z < near || z > far → culled (NaN too)
    const opacity = opacities[g];
    if (!(opacity >= alphaThreshold)) continue;

    // R(q)·diag(s), q = xyzw normalised (gsplat's quat_to_rotmat on wxyz)
    let qx = rotations[4 * g];
    let qy = rotations[4 * g + 1];
    let qz = rotations[4 * g + 2];
    let qw = rotations[4 * g + 3];
    const inv = 1 / Math.sqrt(qx * qx + qy * qy + qz * qz + qw * qw);
    qx *= inv;
    qy *= inv;
    qz *= inv;
    qw *= inv;
    const sx = scales[3 * g];
    const sy = scales[3 * g + 1];
    const sz = scales[3 * g + 2];
    const xx = qx * qx;
    const yy = qy * qy;
    const zz = qz * qz;
    const xy = qx * qy;
    const xz = qx * qz;
    const yz = qy * qz;
    const wx = qw * qx;
    const wy = qw * qy;
    const wz = qw * qz;
    const m00 = (1 - 2 * (yy + zz)) * sx;
    const m01 = 2 * (xy - wz) * sy;
    const m02 = 2 * (xz + wy) * sz;
    const m10 = 2 * (xy + wz) * sx;
    const m11 = (1 - 2 * (xx + zz)) * sy;
    const m12 = 2 * (yz - wx) * sz;
    const m20 = 2 * (xz - wy) * sx;
    const m21 = 2 * (yz + wx) * sy;
    const m22 = (1 - 2 * (xx + yy)) * sz;

    // Jacobian of the pinhole projection at the (clamped) centre
    const rz = 1 / z;
    const rz2 = rz * rz;
    const u = x * rz;
    const v = y * rz;
    const tx = z * (u < -limXNeg ? -limXNeg : Math.min(u, limXPos));
    const ty = z * (v < -limYNeg ? -limYNeg : Math.min(v, limYPos));
    const j00 = fx * rz;
    const j02 = -fx * tx * rz2;
    const j11 = fy * rz;
    const j12 = -fy * ty * rz2;
    // A = J·W (2×3), then T = A·M (2×3): cov2d = T·Tᵀ = J·W·Σ·Wᵀ·Jᵀ
    const a00 = j00 * r00 + j02 * r20;
    const a01 = j00 * r01 + j02 * r21;
    const a02 = j00 * r02 + j02 * r22;
    const a10 = j11 * r10 + j12 * r20;
    const a11 = j11 * r11 + j12 * r21;
    const a12 = j11 * r12 + j12 * r22;
    const b00 = a00 * m00 + a01 * m10 + a02 * m20;
    const b01 = a00 * m01 + a01 * m11 + a02 * m21;
    const b02 = a00 * m02 + a01 * m12 + a02 * m22;
    const b10 = a10 * m00 + a11 * m10 + a12 * m20;
    const b11 = a10 * m01 + a11 * m11 + a12 * m21;
    const b12 = a10 * m02 + a11 * m12 + a12 * m22;
    const cxx = b00 * b00 + b01 * b01 + b02 * b02 + eps2d;
    const cxy = b00 * b10 + b01 * b11 + b02 * b12;
    const cyy = b10 * b10 + b11 * b11 + b12 * b12 + eps2d;
    const det = cxx * cyy - cxy * cxy;
    if (!(det > 0)) continue;

    const meanX = fx * x * rz + cx;
    const meanY = fy * y * rz + cy;
    // opacity-aware box (gsplat CUDA): extend = min(3.33, sqrt(2 ln(opacity / (1/255))))
    const sigmaMax = Math.log(opacity / alphaThreshold);
    const extend = Math.min(maxExtend, Math.sqrt(2 * sigmaMax));
    const radX = Math.ceil(extend * Math.sqrt(cxx));
    const radY = Math.ceil(extend * Math.sqrt(cyy));
    if (!(radX > 0 && radY > 0)) continue; // radius_clip 0; isect needs both > 0
    if (!(meanX + radX > 0 && meanX - radX < width && meanY + radY > 0 && meanY - radY < height)) continue;

    // colour: SH at the unit direction camera centre → mean
    let cr = 0;
    let cg = 0;
    let cb = 0;
    const hb = 3 * K * g;
    cr = SH_C0 * harmonics[hb];
    cg = SH_C0 * harmonics[hb + K];
    cb = SH_C0 * harmonics[hb + 2 * K];
    if (shDegree >= 1) {
      let dx = px - ccx;
      let dy = py - ccy;
      let dz = pz - ccz;
      const n = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const ni = n > 1e-12 ? 1 / n : 1e12; // F.normalize's eps
      dx *= ni;
      dy *= ni;
      dz *= ni;
      const c = shColour(shDegree, dx, dy, dz, harmonics, hb, K);
      cr += c[0];
      cg += c[1];
      cb += c[2];
    }
    cr += 0.5;
    cg += 0.5;
    cb += 0.5;

    const idet = 1 / det;
    out[o + SPLAT.MX] = meanX;
    out[o + SPLAT.MY] = meanY;
    out[o + SPLAT.CA] = cyy * idet;
    out[o + SPLAT.CB] = -cxy * idet;
    out[o + SPLAT.CC] = cxx * idet;
    out[o + SPLAT.OPACITY] = opacity;
    out[o + SPLAT.R] = Math.max(cr, 0);
    out[o + SPLAT.G] = Math.max(cg, 0);
    out[o + SPLAT.B] = Math.max(cb, 0);
    out[o + SPLAT.DEPTH] = z;
    out[o + SPLAT.SIGMA_MAX] = sigmaMax;
    // written last: a finite, visible splat
    if (!Number.isFinite(meanX + meanY + cr + cg + cb + idet)) continue;
    out[o + SPLAT.RX] = radX;
    out[o + SPLAT.RY] = radY;
  }
}

const shOut = new Float64Array(3);

/**
 * Degrees 1..3 of the SH colour (the degree-0 term excluded) at unit direction (x, y, z), gsplat's
 * `sh_coeffs_to_color_fast` with coefficients `h[base + c·K + k]`.
 */
function shColour(degree: number, x: number, y: number, z: number, h: ArrayLike<number>, base: number, K: number): Float64Array {
  // degree 1
  const b1 = -SH_C1 * y;
  const b2 = SH_C1 * z;
  const b3 = -SH_C1 * x;
  let r = b1 * h[base + 1] + b2 * h[base + 2] + b3 * h[base + 3];
  let g = b1 * h[base + K + 1] + b2 * h[base + K + 2] + b3 * h[base + K + 3];
  let b = b1 * h[base + 2 * K + 1] + b2 * h[base + 2 * K + 2] + b3 * h[base + 2 * K + 3];
  if (degree >= 2) {
    const z2 = z * z;
    const fTmp0B = -1.092548430592079 * z;
    const fC1 = x * x - y * y;
    const fS1 = 2 * x * y;
    const p6 = 0.9461746957575601 * z2 - 0.3153915652525201;
    const p7 = fTmp0B * x;
    const p5 = fTmp0B * y;
    const p8 = 0.5462742152960395 * fC1;
    const p4 = 0.5462742152960395 * fS1;
    r += p4 * h[base + 4] + p5 * h[base + 5] + p6 * h[base + 6] + p7 * h[base + 7] + p8 * h[base + 8];
    const gb = base + K;
    g += p4 * h[gb + 4] + p5 * h[gb + 5] + p6 * h[gb + 6] + p7 * h[gb + 7] + p8 * h[gb + 8];
    const bb = base + 2 * K;
    b += p4 * h[bb + 4] + p5 * h[bb + 5] + p6 * h[bb + 6] + p7 * h[bb + 7] + p8 * h[bb + 8];
    if (degree >= 3) {
      const fTmp0C = -2.285228997322329 * z2 + 0.4570457994644658;
      const fTmp1B = 1.445305721320277 * z;
      const fC2 = x * fC1 - y * fS1;
      const fS2 = x * fS1 + y * fC1;
      const p12 = z * (1.865881662950577 * z2 - 1.119528997770346);
      const p13 = fTmp0C * x;
      const p11 = fTmp0C * y;
      const p14 = fTmp1B * fC1;
      const p10 = fTmp1B * fS1;
      const p15 = -0.5900435899266435 * fC2;
      const p9 = -0.5900435899266435 * fS2;
      r += p9 * h[base + 9] + p10 * h[base + 10] + p11 * h[base + 11] + p12 * h[base + 12] + p13 * h[base + 13] + p14 * h[base + 14] + p15 * h[base + 15];
      g += p9 * h[gb + 9] + p10 * h[gb + 10] + p11 * h[gb + 11] + p12 * h[gb + 12] + p13 * h[gb + 13] + p14 * h[gb + 14] + p15 * h[gb + 15];
      b += p9 * h[bb + 9] + p10 * h[bb + 10] + p11 * h[bb + 11] + p12 * h[bb + 12] + p13 * h[bb + 13] + p14 * h[bb + 14] + p15 * h[bb + 15];
    }
  }
  shOut[0] = r;
  shOut[1] = g;
  shOut[2] = b;
  return shOut;
}

/**
 * gsplat's real SH basis (Sloan's fast evaluation, `_eval_sh_bases_fast`) up to degree 3 at unit
 * direction (x, y, z): `(degree + 1)²` values. Colour channel c is `Σ_k basis[k]·coeff[c][k]`.
 */
export function shBasis(degree: number, x: number, y: number, z: number): Float64Array {
  const out = new Float64Array((degree + 1) * (degree + 1));
  out[0] = SH_C0;
  if (degree < 1) return out;
  const basis = new Float64Array(16);
  // Reuse shColour with unit coefficient vectors: cheap and keeps one source of constants.
  for (let k = 1; k < out.length; k++) {
    basis.fill(0);
    basis[k] = 1;
    out[k] = shColour(degree, x, y, z, basis, 0, 16)[0];
  }
  return out;
}
