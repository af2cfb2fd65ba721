/**
 * The camera files DA3-Streaming writes (`save_camera_poses`), as text, so every runtime writes
 * the same bytes: `camera_poses.txt` (one camera→world 4×4 per frame, 16 numbers, row-major),
 * `intrinsic.txt` (`fx fy cx cy` per frame) and `camera_poses.ply` (ASCII, camera centres).
 * Numbers are printed as Python prints them (`str(np.float64)`, `str(np.float32)`).
 */

/** Formats shortest round-trip digits the way Python's `repr` lays them out. */
function pyLayout(x: number, digits: string, exp: number, scientific: boolean): string {
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (scientific) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits + '0'.repeat(exp + 1 - digits.length);
  const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : '0';
  return `${sign}${int}.${frac}`;
}

function special(x: number): string | null {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  return null;
}

function split(exponential: string): { digits: string; exp: number } {
  const [m, e] = exponential.replace(/^-/, '').split('e');
  return { digits: m.replace('.', ''), exp: Number(e) };
}

/** `str(x)` / `repr(x)` of a Python float (float64): `1.0`, `0.1`, `1e-05`, `1.5e+16`. */
export function pythonFloat(x: number): string {
  const s = special(x);
  if (s !== null) return s;
  const { digits, exp } = split(x.toExponential());
  return pyLayout(x, digits, exp, exp < -4 || exp >= 16);
}

/** `str(np.float32(x))`: the shortest digits that round-trip through float32, positional for 1e-4 ≤ |x| < 1e6, else `1.5e+07`. */
export function numpyFloat32(x: number): string {
  const f = Math.fround(x);
  const s = special(f);
  if (s !== null) return s;
  let text = f.toExponential();
  for (let p = 1; p <= 9; p++) {
    const t = f.toExponential(p - 1);
    if (Math.fround(Number(t)) === f) {
      text = t;
      break;
    }
  }
  const { digits, exp } = split(text);
  // numpy prints float32 scalars positionally for 1e-4 ≤ |x| < 1e6 only.
  const a = Math.abs(f);
  return pyLayout(f, digits.replace(/0+$/, '') || '0', exp, a < 1e-4 || a >= 1e6);
}

/** Camera→world 4×4 (row-major, float64) of a world→camera 3×4: `[Rᵀ | −Rᵀt; 0 0 0 1]`. */
export function cameraToWorld(w2c: ArrayLike<number>): Float64Array {
  const out = new Float64Array(16);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[4 * i + j] = w2c[4 * j + i];
    out[4 * i + 3] = -(w2c[i] * w2c[3] + w2c[4 + i] * w2c[7] + w2c[8 + i] * w2c[11]);
  }
  out[15] = 1;
  return out;
}

/** One line of `camera_poses.txt` (no newline): the frame's camera→world 4×4, 16 numbers. */
export function cameraPosesLine(w2c: ArrayLike<number>): string {
  return Array.from(cameraToWorld(w2c), pythonFloat).join(' ');
}

/** One line of `intrinsic.txt` (no newline): `fx fy cx cy`. */
export function intrinsicLine(K: ArrayLike<number>): string {
  return [K[0], K[4], K[2], K[5]].map(numpyFloat32).join(' ');
}

/** The header of `camera_poses.ply` for `count` cameras (ASCII, xyz + RGB). */
export function cameraPosesPlyHeader(count: number): string {
  return `ply\nformat ascii 1.0\nelement vertex ${count}\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n`;
}

/** One vertex line of `camera_poses.ply` (no newline): the camera centre, red as the reference colours it. */
export function cameraPosesPlyLine(w2c: ArrayLike<number>): string {
  const c = cameraToWorld(w2c);
  return `${pythonFloat(c[3])} ${pythonFloat(c[7])} ${pythonFloat(c[11])} 255 0 0`;
}

/** The header of a binary little-endian PLY of `count` points (float xyz + uchar RGB), the reference's `write_ply_header`. */
export function pointCloudPlyHeader(count: number): string {
  return `ply\nformat binary_little_endian 1.0\nelement vertex ${count}\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n`;
}

/** Packs points into the PLY's 15-byte vertex records (x, y, z float32 LE, r, g, b). */
export function pointCloudPlyBody(positions: Float32Array, colors: Uint8Array): Uint8Array {
  const count = colors.length / 3;
  const out = new Uint8Array(count * 15);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    view.setFloat32(15 * i, positions[3 * i], true);
    view.setFloat32(15 * i + 4, positions[3 * i + 1], true);
    view.setFloat32(15 * i + 8, positions[3 * i + 2], true);
    out[15 * i + 12] = colors[3 * i];
    out[15 * i + 13] = colors[3 * i + 1];
    out[15 * i + 14] = colors[3 * i + 2];
  }
  return out;
}
