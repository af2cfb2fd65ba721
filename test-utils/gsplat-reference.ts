/**
 * Test helper: a deliberately naive version of gsplat's `rasterization` (pinhole, classic,
 * `packed=False`, constants of the pinned commit: `GSPLAT_CONSTANTS`) in float64 JavaScript — no tiles and no GPU-style sort: every pixel walks all
 * projected Gaussians in (depth, index) order. It follows the same formulas as gsplat's kernels
 * (`_torch_impl.py` / `ProjectionEWA3DGSFused.cu` / `RasterizeToPixels3DGSSerialBatchFwd.cu`) so
 * it checks the rasterizers' tiling, sorting and early exits independently. O(pixels × Gaussians):
 * for small scenes only.
 */
import { GSPLAT_CONSTANTS, type Gaussians, type RasterImage, type RasterizeOptions, type RenderCamera } from '@da3js/core';

const C0 = 0.2820947917738781;

/** gsplat's `_eval_sh_bases_fast` for (degree + 1)² bases at unit direction (x, y, z). */
export function shBases(degree: number, x: number, y: number, z: number): number[] {
  const r = [C0];
  if (degree < 1) return r;
  const fTmpA = -0.48860251190292;
  r[1] = fTmpA * y;
  r[2] = -fTmpA * z;
  r[3] = fTmpA * x;
  if (degree < 2) return r;
  const z2 = z * z;
  const fTmpB = -1.092548430592079 * z;
  const fC1 = x * x - y * y;
  const fS1 = 2 * x * y;
  r[6] = 0.9461746957575601 * z2 - 0.3153915652525201;
  r[7] = fTmpB * x;
  r[5] = fTmpB * y;
  r[8] = 0.5462742152960395 * fC1;
  r[4] = 0.5462742152960395 * fS1;
  if (degree < 3) return r;
  const fTmpC = -2.285228997322329 * z2 + 0.4570457994644658;
  const fTmpB3 = 1.445305721320277 * z;
  const fC2 = x * fC1 - y * fS1;
  const fS2 = x * fS1 + y * fC1;
  r[12] = z * (1.865881662950577 * z2 - 1.119528997770346);
  r[13] = fTmpC * x;
  r[11] = fTmpC * y;
  r[14] = fTmpB3 * fC1;
  r[10] = fTmpB3 * fS1;
  r[15] = -0.5900435899266435 * fC2;
  r[9] = -0.5900435899266435 * fS2;
  return r;
}

interface Projected {
  index: number;
  x: number;
  y: number;
  depth: number;
  conic: [number, number, number];
  opacity: number;
  color: [number, number, number];
}

/** The naive reference render (see the module doc). */
export function referenceRender(g: Gaussians, cam: RenderCamera, options: RasterizeOptions = {}): RasterImage {
  const { width: W, height: H } = cam;
  const e = cam.extrinsics;
  const k = cam.intrinsics;
  const K = g.shCoefficients;
  const degree = options.shDegree ?? Math.round(Math.sqrt(K)) - 1;
  const near = options.near ?? 0.01;
  const far = options.far ?? 1e10;
  const eps2d = options.eps2d ?? 0.3;
  const bg = options.background ?? [0, 0, 0];
  const [fx, fy, cx, cy] = [k[0], k[4], k[2], k[5]];
  const campos = [0, 1, 2].map((c) => -(e[c] * e[3] + e[4 + c] * e[7] + e[8 + c] * e[11]));
  const list: Projected[] = [];
  for (let i = 0; i < g.count; i++) {
    const p = [g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]];
    const mc = [0, 1, 2].map((r) => e[4 * r] * p[0] + e[4 * r + 1] * p[1] + e[4 * r + 2] * p[2] + e[4 * r + 3]);
    if (mc[2] < near || mc[2] > far) continue;
    const [qx, qy, qz, qw] = [g.rotations[4 * i], g.rotations[4 * i + 1], g.rotations[4 * i + 2], g.rotations[4 * i + 3]];
    const n = Math.hypot(qx, qy, qz, qw);
    const [w, x, y, z] = [qw / n, qx / n, qy / n, qz / n];
    const R = [
      [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
      [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
      [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ];
    const s = [g.scales[3 * i], g.scales[3 * i + 1], g.scales[3 * i + 2]];
    // Σ = R S² Rᵀ, then Σc = V Σ Vᵀ (V = extrinsic rotation)
    const cov = [0, 1, 2].map((a) => [0, 1, 2].map((b) => R[a][0] * s[0] * s[0] * R[b][0] + R[a][1] * s[1] * s[1] * R[b][1] + R[a][2] * s[2] * s[2] * R[b][2]));
    const V = [0, 1, 2].map((r) => [e[4 * r], e[4 * r + 1], e[4 * r + 2]]);
    const VS = [0, 1, 2].map((a) => [0, 1, 2].map((b) => V[a][0] * cov[0][b] + V[a][1] * cov[1][b] + V[a][2] * cov[2][b]));
    const covC = [0, 1, 2].map((a) => [0, 1, 2].map((b) => VS[a][0] * V[b][0] + VS[a][1] * V[b][1] + VS[a][2] * V[b][2]));
    const tanX = (0.5 * W) / fx;
    const tanY = (0.5 * H) / fy;
    const limXPos = (W - cx) / fx + 0.3 * tanX;
    const limXNeg = cx / fx + 0.3 * tanX;
    const limYPos = (H - cy) / fy + 0.3 * tanY;
    const limYNeg = cy / fy + 0.3 * tanY;
    const tz = mc[2];
    const tx = tz * Math.min(limXPos, Math.max(-limXNeg, mc[0] / tz));
    const ty = tz * Math.min(limYPos, Math.max(-limYNeg, mc[1] / tz));
    const J = [
      [fx / tz, 0, (-fx * tx) / (tz * tz)],
      [0, fy / tz, (-fy * ty) / (tz * tz)],
    ];
    const JC = [0, 1].map((a) => [0, 1, 2].map((b) => J[a][0] * covC[0][b] + J[a][1] * covC[1][b] + J[a][2] * covC[2][b]));
    const c2 = [0, 1].map((a) => [0, 1].map((b) => JC[a][0] * J[b][0] + JC[a][1] * J[b][1] + JC[a][2] * J[b][2]));
    c2[0][0] += eps2d;
    c2[1][1] += eps2d;
    const det = c2[0][0] * c2[1][1] - c2[0][1] * c2[1][0];
    if (det <= 0) continue;
    const opacity = g.opacities[i];
    if (opacity < 1 / 255) continue;
    const extend = Math.min(3.33, Math.sqrt(2 * Math.log(opacity * 255)));
    const rx = Math.ceil(extend * Math.sqrt(c2[0][0]));
    const ry = Math.ceil(extend * Math.sqrt(c2[1][1]));
    const mx = (fx * mc[0]) / tz + cx;
    const my = (fy * mc[1]) / tz + cy;
    if (rx <= 0 || ry <= 0 || mx + rx <= 0 || mx - rx >= W || my + ry <= 0 || my - ry >= H) continue;
    const d = [p[0] - campos[0], p[1] - campos[1], p[2] - campos[2]];
    const dn = Math.hypot(d[0], d[1], d[2]);
    const basis = shBases(degree, d[0] / dn, d[1] / dn, d[2] / dn);
    const color = [0, 1, 2].map((c) => {
      let v = 0;
      for (let b = 0; b < basis.length; b++) v += basis[b] * g.harmonics[i * 3 * K + c * K + b];
      return Math.max(v + 0.5, 0);
    }) as [number, number, number];
    list.push({ index: i, x: mx, y: my, depth: tz, conic: [c2[1][1] / det, -c2[0][1] / det, c2[0][0] / det], opacity, color });
  }
  // float32 depth keys, ties by index (gsplat's stable radix sort of float-bit keys)
  list.sort((a, b) => Math.fround(a.depth) - Math.fround(b.depth) || a.index - b.index);
  const rgb = new Float32Array(W * H * 3);
  const alpha = new Float32Array(W * H);
  const depth = new Float32Array(W * H);
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      let T = 1;
      const acc = [0, 0, 0, 0];
      for (const s of list) {
        const dx = s.x - (px + 0.5);
        const dy = s.y - (py + 0.5);
        const sigma = 0.5 * (s.conic[0] * dx * dx + s.conic[2] * dy * dy) + s.conic[1] * dx * dy;
        const a = Math.min(GSPLAT_CONSTANTS.maxAlpha, s.opacity * Math.exp(-sigma));
        if (sigma < 0 || a < 1 / 255) continue;
        const next = T * (1 - a);
        if (next <= 1e-4) break;
        for (let c = 0; c < 3; c++) acc[c] += s.color[c] * a * T;
        acc[3] += s.depth * a * T;
        T = next;
      }
      const p = py * W + px;
      for (let c = 0; c < 3; c++) rgb[3 * p + c] = acc[c] + T * bg[c];
      alpha[p] = 1 - T;
      depth[p] = acc[3] / Math.max(1 - T, 1e-10);
    }
  }
  return { width: W, height: H, rgb, alpha, ...(options.renderMode === 'RGB+ED' ? { depth } : {}) };
}
