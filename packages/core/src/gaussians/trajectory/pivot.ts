/**
 * The reference's camera interpolation about a focus point (`interpolate_extrinsics` in
 * `utils/camera_trj_helpers.py`, from pixelSplat): two camera→world poses are expressed as five
 * "pivot parameters" — the offset from the focus point in a frame spanned by the pivot axis and
 * the look vector (3), and two Euler angles (`YXZ`, the X tilt dropped) of the rotation in the
 * pivot frame — which are interpolated linearly (angles the short way round) and turned back
 * into poses. The focus point is the least-squares intersection of the two optical axes, or the
 * midpoint of the origins when they are parallel.
 *
 * Like the reference: the parameters are computed in float64 and converted back in float32;
 * Euler angles follow scipy's `Rotation.from_matrix(...).as_euler('YXZ')` (intrinsic) and
 * `from_euler('YXZ', ...)`.
 */
import { f32, remainder } from './f32.js';

type V3 = [number, number, number];

const cross = (a: ArrayLike<number>, b: ArrayLike<number>): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const normalize = (a: V3): V3 => {
  const n = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / n, a[1] / n, a[2] / n];
};
/** Column `c` of a row-major 4×4. */
const col4 = (m: ArrayLike<number>, c: number): V3 => [m[c], m[4 + c], m[8 + c]];

/** `generate_coordinate_frame(y, z)`: the 3×3 (row-major) with columns `[y × z, y, z]`. */
function coordinateFrame(y: ArrayLike<number>, z: ArrayLike<number>, round = false): number[] {
  const x = cross(y, z);
  const r = round ? x.map(f32) : x;
  return [r[0], y[0], z[0], r[1], y[1], z[1], r[2], y[2], z[2]];
}

/** Solves the 3×3 system `a·x = b` (partial pivoting, float64); `a` row-major. */
function solve3(a: number[], b: V3): V3 {
  const m = [
    [a[0], a[1], a[2], b[0]],
    [a[3], a[4], a[5], b[1]],
    [a[6], a[7], a[8], b[2]],
  ];
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < 3; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < 4; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x: V3 = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let s = m[r][3];
    for (let k = r + 1; k < 3; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

/** `intersect_rays`: the point nearest (least squares) to two lines `o + s·d` (unit `d`). */
function intersectRays(oa: V3, da: V3, ob: V3, db: V3): V3 {
  const lhs = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const rhs: V3 = [0, 0, 0];
  for (const [o, d] of [
    [oa, da],
    [ob, db],
  ]) {
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const n = d[i] * d[j] - (i === j ? 1 : 0);
        lhs[i * 3 + j] += n;
        rhs[i] += n * o[j];
      }
    }
  }
  return solve3(lhs, rhs);
}

/** scipy `Rotation.from_matrix(m).as_matrix()` (scipy 1.10): Markley's quaternion, normalised. */
function orthonormalize(m: number[]): number[] {
  const tr = m[0] + m[4] + m[8];
  const dec = [m[0], m[4], m[8], tr];
  let choice = 0;
  for (let i = 1; i < 4; i++) if (dec[i] > dec[choice]) choice = i;
  const q = [0, 0, 0, 0];
  const at = (i: number, j: number) => m[i * 3 + j];
  if (choice !== 3) {
    const i = choice;
    const j = (i + 1) % 3;
    const k = (j + 1) % 3;
    q[i] = 1 - tr + 2 * at(i, i);
    q[j] = at(j, i) + at(i, j);
    q[k] = at(k, i) + at(i, k);
    q[3] = at(k, j) - at(j, k);
  } else {
    q[0] = at(2, 1) - at(1, 2);
    q[1] = at(0, 2) - at(2, 0);
    q[2] = at(1, 0) - at(0, 1);
    q[3] = 1 + tr;
  }
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  return quatToMatrix(q[0] / n, q[1] / n, q[2] / n, q[3] / n);
}

/** scipy's `as_matrix` of a unit quaternion `(x, y, z, w)`. */
function quatToMatrix(x: number, y: number, z: number, w: number): number[] {
  const x2 = x * x, y2 = y * y, z2 = z * z, w2 = w * w;
  const xy = x * y, zw = z * w, xz = x * z, yw = y * w, yz = y * z, xw = x * w;
  return [x2 - y2 - z2 + w2, 2 * (xy - zw), 2 * (xz + yw), 2 * (xy + zw), -x2 + y2 - z2 + w2, 2 * (yz - xw), 2 * (xz - yw), 2 * (yz + xw), -x2 - y2 + z2 + w2];
}

/**
 * scipy's `as_euler('YXZ')` (intrinsic Y, then X, then Z; Shuster–Markley, scipy 1.10) of a
 * rotation matrix: `[angleY, angleX, angleZ]`, the middle angle in [−π/2, π/2].
 */
export function eulerYXZ(matrix: ArrayLike<number>): V3 {
  const m = orthonormalize(Array.from(matrix));
  // seq 'yxz': n1 = e_y, n2 = e_x, n3 = e_z; sl = (n1 × n2)·n3 = −1, cl = n1·n3 = 0, offset = −π/2.
  // c = [n2; n1 × n2; n1] = [e_x; −e_z; e_y]; rot = [[1,0,0],[0,0,−1],[0,1,0]].
  const c = [1, 0, 0, 0, 0, -1, 0, 1, 0];
  const rot = [1, 0, 0, 0, 0, -1, 0, 1, 0];
  const mul = (a: number[], b: number[]) => {
    const o = new Array<number>(9).fill(0);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) o[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
    return o;
  };
  const ct = [c[0], c[3], c[6], c[1], c[4], c[7], c[2], c[5], c[8]];
  const t = mul(mul(c, m), mul(ct, rot));
  const offset = Math.atan2(-1, 0);
  let t22 = t[8];
  if (t22 > 1) t22 = 1;
  if (t22 < -1) t22 = -1;
  const angles: V3 = [0, Math.acos(t22), 0];
  const eps = 1e-7;
  const safe1 = Math.abs(angles[1]) >= eps;
  const safe2 = Math.abs(angles[1] - Math.PI) >= eps;
  angles[1] += offset;
  const safe = safe1 && safe2;
  if (safe) {
    angles[0] = Math.atan2(t[2], -t[5]);
    angles[2] = Math.atan2(t[6], t[7]);
  } else {
    angles[2] = 0;
    if (!safe1) angles[0] = Math.atan2(t[3] - t[1], t[0] + t[4]);
    if (!safe2) angles[0] = Math.atan2(t[3] + t[1], t[0] - t[4]);
  }
  if (safe && (angles[1] < -Math.PI / 2 || angles[1] > Math.PI / 2)) {
    angles[0] += Math.PI;
    angles[1] = 2 * offset - angles[1];
    angles[2] -= Math.PI;
  }
  for (let i = 0; i < 3; i++) {
    if (angles[i] < -Math.PI) angles[i] += 2 * Math.PI;
    else if (angles[i] > Math.PI) angles[i] -= 2 * Math.PI;
  }
  return angles;
}

/** scipy's `from_euler('YXZ', [y, x, z]).as_matrix()` (intrinsic): row-major 3×3. */
export function matrixFromEulerYXZ(y: number, x: number, z: number): number[] {
  // Elementary quaternions (x, y, z, w) composed left to right (intrinsic): q = qY ⊗ qX ⊗ qZ.
  const compose = (p: number[], q: number[]) => {
    const c = cross(p, q);
    return [p[3] * q[0] + q[3] * p[0] + c[0], p[3] * q[1] + q[3] * p[1] + c[1], p[3] * q[2] + q[3] * p[2] + c[2], p[3] * q[3] - (p[0] * q[0] + p[1] * q[1] + p[2] * q[2])];
  };
  const qy = [0, Math.sin(y / 2), 0, Math.cos(y / 2)];
  const qx = [Math.sin(x / 2), 0, 0, Math.cos(x / 2)];
  const qz = [0, 0, Math.sin(z / 2), Math.cos(z / 2)];
  const q = compose(compose(qy, qx), qz);
  return quatToMatrix(q[0], q[1], q[2], q[3]);
}

/** `generate_rotation_coordinate_frame(a, b)`: y normal to the plane of the unit vectors a, b; z = a. */
function rotationFrame(a: V3, b: V3, eps: number): number[] {
  let bb: V3 = [b[0], b[1], b[2]];
  if (Math.abs(Math.abs(dot(a, bb)) - 1) < eps) bb = [0, 0, 1];
  if (Math.abs(Math.abs(dot(a, bb)) - 1) < eps) bb = [0, 1, 0];
  return coordinateFrame(normalize(cross(a, bb)), a);
}

/** Inverse of a 3×3 (float64; the pivot frames are rotations up to rounding). */
function inverse3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det, B / det, (a * i - c * g) / det, -(a * f - c * d) / det, C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
}

/** `extrinsics_to_pivot_parameters`: `[dx, dy, dz, angleY, angleZ]` of a camera→world pose. */
function toPivotParameters(c2w: ArrayLike<number>, frame: number[], pivot: V3): number[] {
  const axis: V3 = [frame[1], frame[4], frame[7]];
  const tf = coordinateFrame(axis, col4(c2w, 2));
  const delta = [pivot[0] - c2w[3], pivot[1] - c2w[7], pivot[2] - c2w[11]];
  const translation = [0, 1, 2].map((j) => tf[j] * delta[0] + tf[3 + j] * delta[1] + tf[6 + j] * delta[2]);
  const inv = inverse3(frame);
  const r = [c2w[0], c2w[1], c2w[2], c2w[4], c2w[5], c2w[6], c2w[8], c2w[9], c2w[10]];
  const rel = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) rel[i * 3 + j] += inv[i * 3 + k] * r[k * 3 + j];
  const [y, , z] = eulerYXZ(rel);
  return [...translation, y, z];
}

/** `interpolate_circular(a, b, t)`: from angle a towards b the short way round (mod 2π). */
function interpolateCircular(a0: number, b0: number, t: number): number {
  const tau = 2 * Math.PI;
  const a = remainder(a0, tau);
  const b = remainder(b0, tau);
  const d = Math.abs(b - a);
  const aLeft = a - tau;
  const dLeft = Math.abs(b - aLeft);
  const aRight = a + tau;
  const dRight = Math.abs(b - aRight);
  const useD = d < dLeft && d < dRight;
  const useLeft = dLeft < dRight && !useD;
  if (useD) return a + (b - a) * t;
  if (useLeft) return aLeft + (b - aLeft) * t;
  return aRight + (b - aRight) * t;
}

/**
 * The reference's `interpolate_extrinsics(initial, final, t)`: camera→world poses between two
 * poses, one per `t` (0 → `initial`, 1 → `final`), rotating about the pair's focus point.
 * @param a camera→world 4×4 (16 numbers, row-major)
 * @param b camera→world 4×4
 * @param t interpolation parameters (float32 values)
 * @returns `[t.length, 4, 4]` camera→world, float32 values
 */
export function interpolateExtrinsics(a: ArrayLike<number>, b: ArrayLike<number>, t: ArrayLike<number>, eps = 1e-4): Float64Array {
  const la = col4(a, 2);
  const lb = col4(b, 2);
  const oa = col4(a, 3);
  const ob = col4(b, 3);
  const parallel = Math.abs(Math.abs(dot(la, lb)) - 1) < eps;
  const pivot: V3 = parallel ? [0.5 * (oa[0] + ob[0]), 0.5 * (oa[1] + ob[1]), 0.5 * (oa[2] + ob[2])] : intersectRays(oa, la, ob, lb);
  const frame = rotationFrame(la, lb, eps);
  const pa = toPivotParameters(a, frame, pivot);
  const pb = toPivotParameters(b, frame, pivot);
  // Back in float32, as the reference converts: parameters, frame and pivot rounded.
  const frame32 = frame.map(f32);
  const pivot32 = pivot.map(f32);
  const axis: V3 = [frame32[1], frame32[4], frame32[7]];
  const out = new Float64Array(t.length * 16);
  for (let n = 0; n < t.length; n++) {
    const tn = t[n];
    const p = [0, 1, 2].map((i) => f32(pa[i] + (pb[i] - pa[i]) * tn));
    const y = f32(interpolateCircular(pa[3], pb[3], tn));
    const z = f32(interpolateCircular(pa[4], pb[4], tn));
    const e = matrixFromEulerYXZ(y, 0, z).map(f32);
    const rot = new Array<number>(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) rot[i * 3 + j] = f32(frame32[i * 3] * e[j] + frame32[i * 3 + 1] * e[3 + j] + frame32[i * 3 + 2] * e[6 + j]);
    const tf = coordinateFrame(axis, [rot[2], rot[5], rot[8]], true);
    const o = n * 16;
    for (let i = 0; i < 3; i++) {
      const delta = f32(tf[i * 3] * p[0] + tf[i * 3 + 1] * p[1] + tf[i * 3 + 2] * p[2]);
      out[o + i * 4] = rot[i * 3];
      out[o + i * 4 + 1] = rot[i * 3 + 1];
      out[o + i * 4 + 2] = rot[i * 3 + 2];
      out[o + i * 4 + 3] = f32(pivot32[i] - delta);
    }
    out[o + 15] = 1;
  }
  return out;
}

/** The reference's `interpolate_intrinsics`: `a + (b − a)·t` per entry, one 3×3 per `t`. */
export function interpolateIntrinsics(a: ArrayLike<number>, b: ArrayLike<number>, t: ArrayLike<number>): Float64Array {
  const out = new Float64Array(t.length * 9);
  for (let n = 0; n < t.length; n++) for (let i = 0; i < 9; i++) out[n * 9 + i] = f32(a[i] + f32(f32(b[i] - a[i]) * t[n]));
  return out;
}
