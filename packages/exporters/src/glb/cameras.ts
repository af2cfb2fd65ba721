/**
 * Camera wireframes of the GLB scene, as the reference draws them (`glb.py`
 * `_camera_frustum_lines`, `_index_color_rgb`): per camera 8 line segments (centre → the four
 * image corners, then the rectangle) with the corners at pixels (0,0), (W−1,0), (W−1,H−1),
 * (0,H−1) on the camera's z = 1 plane, scaled by `scale`, then mapped by the scene alignment.
 */
import { Da3Error, invert3, invert4 } from '@da3js/core';
import { type Affine, applyAffine } from './frame.js';

/** Segments per camera wireframe. */
export const CAMERA_SEGMENTS = 8;
/** Vertices per camera wireframe (two per segment, as a LINES primitive). */
export const CAMERA_VERTICES = 2 * CAMERA_SEGMENTS;

/**
 * The 16 LINES vertices (xyz, float64, scene frame) of camera `i`'s wireframe.
 * @param intrinsics `[N, 3, 3]`, @param w2c `[N, 3, 4]` world→camera; `scale` in world units.
 */
export function cameraFrustumVertices(
  intrinsics: ArrayLike<number>,
  w2c: ArrayLike<number>,
  i: number,
  width: number,
  height: number,
  scale: number,
  alignment: Affine,
): Float64Array {
  const kinv = new Float64Array(9);
  if (!invert3(kinv, Array.from({ length: 9 }, (_, k) => intrinsics[9 * i + k]))) {
    throw new Da3Error('DEGENERATE', `writeGlb: intrinsics of view ${i} are singular`);
  }
  const e = new Float64Array(16);
  for (let k = 0; k < 12; k++) e[k] = w2c[12 * i + k];
  e[15] = 1;
  const c2w = new Float64Array(16);
  if (!invert4(c2w, e)) throw new Da3Error('DEGENERATE', `writeGlb: extrinsics of view ${i} are singular`);
  // c2w @ [0, 0, 0, 1]
  const centre = [c2w[3], c2w[7], c2w[11]];
  const corners = [
    [0, 0],
    [width - 1, 0],
    [width - 1, height - 1],
    [0, height - 1],
  ];
  const plane: number[][] = corners.map(([u, v]) => {
    const rx = kinv[0] * u + kinv[1] * v + kinv[2];
    const ry = kinv[3] * u + kinv[4] * v + kinv[5];
    let rz = kinv[6] * u + kinv[7] * v + kinv[8];
    const z = rz === 0 ? 1 : rz;
    const px = (rx / z) * scale;
    const py = (ry / z) * scale;
    rz = (rz / z) * scale;
    return [
      c2w[0] * px + c2w[1] * py + c2w[2] * rz + c2w[3],
      c2w[4] * px + c2w[5] * py + c2w[6] * rz + c2w[7],
      c2w[8] * px + c2w[9] * py + c2w[10] * rz + c2w[11],
    ];
  });
  const segments: number[][][] = [];
  for (let k = 0; k < 4; k++) segments.push([centre, plane[k]]);
  const order = [0, 1, 2, 3, 0];
  for (let k = 0; k < 4; k++) segments.push([plane[order[k]], plane[order[k + 1]]]);
  const out = new Float64Array(CAMERA_VERTICES * 3);
  let at = 0;
  const p = new Float64Array(3);
  for (const seg of segments) {
    for (const v of seg) {
      applyAffine(p, alignment, v[0], v[1], v[2]);
      out[at++] = p[0];
      out[at++] = p[1];
      out[at++] = p[2];
    }
  }
  return out;
}

/** The reference's camera colour: HSV(h = (i + ½)/n, s = 0.85, v = 0.95) → uint8 RGB (truncated). */
export function cameraColor(i: number, n: number): [number, number, number] {
  const h = (i + 0.5) / Math.max(n, 1);
  const [r, g, b] = hsvToRgb(h, 0.85, 0.95);
  // (np.array([r, g, b]) * 255).astype(np.uint8)
  return [Math.trunc(r * 255), Math.trunc(g * 255), Math.trunc(b * 255)];
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  let i = Math.trunc(h * 6.0);
  const f = h * 6.0 - i;
  const p = v * (1.0 - s);
  const q = v * (1.0 - f * s);
  const t = v * (1.0 - (1.0 - f) * s);
  i = ((i % 6) + 6) % 6;
  switch (i) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}
