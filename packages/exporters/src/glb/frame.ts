/**
 * The GLB scene frame: the reference's alignment `A = T(−median) · diag(1, −1, −1, 1) · w2c₀`
 * (`_compute_alignment_transform_first_cam_glTF_center_by_points`): the first camera's frame
 * converted from OpenCV axes (x right, y down, z forward) to glTF axes (x right, y up, z back),
 * centred at the per-axis median of the points.
 */

/** A row-major 4×4 affine matrix (float64), `p' = A · [p; 1]`. */
export type Affine = Float64Array;

/** `M · [w2c₀; 0 0 0 1]` with `M = diag(1, −1, −1, 1)`: world (OpenCV) → first camera, glTF axes. */
export function firstCameraGltf(w2c: ArrayLike<number>): Affine {
  const a = new Float64Array(16);
  for (let k = 0; k < 12; k++) a[k] = w2c[k];
  a[15] = 1;
  for (let k = 4; k < 12; k++) a[k] = -a[k];
  return a;
}

/** `T(−centre) · a` (the centring translation applied after `a`). */
export function centred(a: Affine, centre: ArrayLike<number>): Affine {
  const out = Float64Array.from(a);
  // T_center @ A: rows 0..2 gain −centre[r]·(row 3 of A) = −centre[r]·[0 0 0 1].
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) out[4 * r + c] = a[4 * r + c] - centre[r] * a[12 + c];
  }
  return out;
}

/**
 * trimesh's `transform_points` shortcut: a matrix within 1e-8 of the identity leaves the points
 * untouched. Returns true for such a matrix.
 */
export function isNearIdentity(a: Affine): boolean {
  let worst = 0;
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) worst = Math.max(worst, Math.abs(a[4 * r + c] - (r === c ? 1 : 0)));
  }
  return worst < 1e-8;
}

/** `out = A · [x, y, z, 1]` in float64 (identity shortcut as trimesh). */
export function applyAffine(out: Float64Array, a: Affine, x: number, y: number, z: number): Float64Array {
  if (isNearIdentity(a)) {
    out[0] = x;
    out[1] = y;
    out[2] = z;
    return out;
  }
  out[0] = a[0] * x + a[1] * y + a[2] * z + a[3];
  out[1] = a[4] * x + a[5] * y + a[6] * z + a[7];
  out[2] = a[8] * x + a[9] * y + a[10] * z + a[11];
  return out;
}

/** The alignment as nested rows (what the reference stores as `hf_alignment`). */
export function affineRows(a: Affine): number[][] {
  return [0, 1, 2, 3].map((r) => [a[4 * r], a[4 * r + 1], a[4 * r + 2], a[4 * r + 3]]);
}
