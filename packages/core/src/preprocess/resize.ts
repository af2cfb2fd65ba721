/**
 * Pixel resampling of 8-bit RGB(A) images that reproduces OpenCV 4.6 `cv2.resize` on the RGB
 * `CV_8UC3` array the reference resizes, with `INTER_AREA` (downscaling) and `INTER_CUBIC`, bit for
 * bit (x86-64 build with 128-bit SIMD, no IPP — the build the fixtures were made with).
 *
 * Written from the behaviour of `modules/imgproc/src/resize.cpp`; no OpenCV code is copied. The
 * arithmetic that decides the last bit:
 *
 * - CUBIC: per-axis source coordinate `fx = float((dx + 0.5)·(src/dst) − 0.5)`, Keys kernel with
 *   A = −0.75 evaluated in float32, taps quantised to int16 as `round(c·2048)` (half to even),
 *   edge pixels replicated; horizontal pass in integers; vertical pass in float32
 *   `round(S0·b0 + (S1·b1 + (S2·b2 + S3·b3)))` with `b = β/2²²` over the first multiple of 8
 *   values of each output row (OpenCV's SIMD kernel) and the integer `(Σ S·β + 2²¹) >> 22` over
 *   the rest.
 * - AREA, integer ratio 2×2: `(a + b + c + d + 2) >> 2`.
 * - AREA, other integer ratios: `round(float32(Σ · float32(1/area)))`, half to even.
 * - AREA, fractional ratios: OpenCV's coverage tables (cell weights as float32), horizontal and
 *   vertical accumulation in float32 in OpenCV's order, then round half to even.
 *
 * Speed: the float32 chains are evaluated exactly in float64/integers first; only a value whose
 * exact result lies within a proven bound of the float32 chain's rounding error from a ½ tie is
 * recomputed with float32 emulation (`Math.fround` at every step). Rounding agrees everywhere else
 * because the float32 result cannot cross the tie.
 */
import { Da3Error } from '../errors.js';
import { checkImageU8, type ImageU8, type RgbImageU8 } from './image.js';
import type { ResizeInterpolation } from './plan.js';
import { roundHalfEven } from './rounding.js';

const CN = 3;
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS; // 2048
/** Values of a row that OpenCV's 128-bit vertical cubic kernel handles per iteration (v_int16 lanes). */
const CUBIC_SIMD_LANES = 8;
const DBL_EPSILON = 2.220446049250313e-16;
/** float32 unit roundoff (relative error bound of one round-to-nearest operation). */
const U32 = 2 ** -24;
const f32 = Math.fround;
/** 1.5·2⁵²: `(x + RINT) − RINT` rounds a double with |x| < 2⁵¹ to an integer, half to even. */
const RINT = 6755399441055744;

/**
 * Resizes an 8-bit RGB or RGBA image to `width×height` pixels and returns it as RGB, reproducing
 * `cv2.resize(rgb, (width, height), interpolation=…)` of OpenCV 4.6 on the image's RGB channels
 * (alpha is ignored) for `area` (`INTER_AREA`) and `cubic` (`INTER_CUBIC`). Always returns a
 * new array; an unchanged size gives a copy, as OpenCV does.
 *
 * `area` only downscales (OpenCV emulates an enlarging "area" resize with a bilinear variant the
 * reference never reaches): otherwise `BAD_VALUE`. Also throws the image validation errors
 * (`EMPTY_INPUT`, `BAD_SHAPE`, `BAD_VALUE`) and `BAD_SHAPE` for a bad target size.
 */
export function resizeImageU8(image: ImageU8, width: number, height: number, interpolation: ResizeInterpolation): RgbImageU8 {
  const fn = 'resizeImageU8';
  checkImageU8(image, fn);
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Da3Error('BAD_SHAPE', `${fn}: target ${name} must be a positive integer, got ${v}`);
  }
  const { data: src, width: sw, height: sh, channels: scn } = image;
  let data: Uint8Array;
  if (sw === width && sh === height) {
    data = new Uint8Array(sw * sh * CN);
    for (let i = 0, j = 0; i < data.length; i += CN, j += scn) {
      data[i] = src[j];
      data[i + 1] = src[j + 1];
      data[i + 2] = src[j + 2];
    }
  } else if (interpolation === 'cubic') {
    data = resizeCubic(src, scn, sw, sh, width, height);
  } else if (interpolation === 'area') {
    if (width > sw || height > sh) {
      throw new Da3Error(
        'BAD_VALUE',
        `${fn}: area interpolation only downscales (${sw}×${sh} → ${width}×${height}); use cubic to enlarge`,
      );
    }
    data = resizeArea(src, scn, sw, sh, width, height);
  } else {
    throw new Da3Error('BAD_VALUE', `${fn}: unknown interpolation ${JSON.stringify(interpolation)}; expected 'area' or 'cubic'`);
  }
  return { data, width, height, channels: 3 };
}

// ---------------------------------------------------------------------------------------------
// INTER_CUBIC
// ---------------------------------------------------------------------------------------------

/** OpenCV's `interpolateCubic` (A = −0.75), float32 step by step, quantised to int16 taps. */
function cubicTaps(x: number, out: Int32Array, o: number): void {
  const A = -0.75;
  const x1 = f32(x + 1);
  let t = f32(A * x1);
  t = f32(t - 5 * A);
  t = f32(t * x1);
  t = f32(t + 8 * A);
  t = f32(t * x1);
  const c0 = f32(t - 4 * A);

  t = f32((A + 2) * x);
  t = f32(t - (A + 3));
  t = f32(t * x);
  t = f32(t * x);
  const c1 = f32(t + 1);

  const y = f32(1 - x);
  t = f32((A + 2) * y);
  t = f32(t - (A + 3));
  t = f32(t * y);
  t = f32(t * y);
  const c2 = f32(t + 1);

  const c3 = f32(f32(f32(1 - c0) - c1) - c2);
  // saturate_cast<short>(c * 2048): the product is exact (power of two); cvRound is half-even.
  out[o] = roundHalfEven(c0 * COEF_SCALE);
  out[o + 1] = roundHalfEven(c1 * COEF_SCALE);
  out[o + 2] = roundHalfEven(c2 * COEF_SCALE);
  out[o + 3] = roundHalfEven(c3 * COEF_SCALE);
}

/**
 * Per destination index along one axis: the 4 clamped source indices and 4 int16 taps.
 * `scale` is OpenCV's `1 / (dst/src)` in double.
 */
function cubicAxis(srcSize: number, dstSize: number): { idx: Int32Array; taps: Int32Array } {
  const scale = 1 / (dstSize / srcSize);
  const idx = new Int32Array(dstSize * 4);
  const taps = new Int32Array(dstSize * 4);
  const last = srcSize - 1;
  for (let d = 0; d < dstSize; d++) {
    const fxf = f32((d + 0.5) * scale - 0.5);
    const s = Math.floor(fxf);
    cubicTaps(f32(fxf - s), taps, d * 4);
    for (let k = 0; k < 4; k++) {
      const j = s - 1 + k;
      idx[d * 4 + k] = j < 0 ? 0 : Math.min(j, last);
    }
  }
  return { idx, taps };
}

function resizeCubic(src: Uint8Array | Uint8ClampedArray, scn: number, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const X = cubicAxis(sw, dw);
  const Y = cubicAxis(sh, dh);
  const rowLen = dw * CN;

  // Horizontal pass, integer (uchar × short → int), for each source row some output row uses.
  const used = new Uint8Array(sh);
  for (let i = 0; i < Y.idx.length; i++) used[Y.idx[i]] = 1;
  const hrows = new Int32Array(sh * rowLen);
  const xi = X.idx;
  const xa = X.taps;
  for (let sy = 0; sy < sh; sy++) {
    if (!used[sy]) continue;
    const s0 = sy * sw * scn;
    let o = sy * rowLen;
    for (let q = 0; q < dw * 4; q += 4, o += CN) {
      const p0 = s0 + xi[q] * scn;
      const p1 = s0 + xi[q + 1] * scn;
      const p2 = s0 + xi[q + 2] * scn;
      const p3 = s0 + xi[q + 3] * scn;
      const a0 = xa[q];
      const a1 = xa[q + 1];
      const a2 = xa[q + 2];
      const a3 = xa[q + 3];
      hrows[o] = src[p0] * a0 + src[p1] * a1 + src[p2] * a2 + src[p3] * a3;
      hrows[o + 1] = src[p0 + 1] * a0 + src[p1 + 1] * a1 + src[p2 + 1] * a2 + src[p3 + 1] * a3;
      hrows[o + 2] = src[p0 + 2] * a0 + src[p1 + 2] * a1 + src[p2 + 2] * a2 + src[p3 + 2] * a3;
    }
  }

  // Vertical pass. Over the first multiple-of-8 values of a row OpenCV evaluates, in float32,
  // t = S0·b0 + (S1·b1 + (S2·b2 + S3·b3)) with b = β·2⁻²² (no FMA; each product and each sum
  // rounded) and stores round-half-even(t) saturated to 0…255. Its exact value is the integer
  // s = Σ S·β times 2⁻²², and |t − s·2⁻²²| ≤ 7·u·P with P = Σ|S·b| ≤ hMax·Σ|β|·2⁻²²; so unless s·2⁻²²
  // is within that of a ½ tie, round(t) = round(s·2⁻²²). The rest of the row is OpenCV's
  // fixed-point scalar code, (s + 2²¹) >> 22, which is integer anyway.
  let hMax = 0;
  for (let q = 0; q < xa.length; q += 4) hMax = Math.max(hMax, 255 * (Math.abs(xa[q]) + Math.abs(xa[q + 1]) + Math.abs(xa[q + 2]) + Math.abs(xa[q + 3])));
  const out = new Uint8Array(dh * rowLen);
  const simdEnd = rowLen - (rowLen % CUBIC_SIMD_LANES);
  const SHIFT = 2 ** -(2 * COEF_BITS); // 2^-22, exact in float32
  const HALF = 2 ** (2 * COEF_BITS - 1);
  for (let dy = 0; dy < dh; dy++) {
    const q = dy * 4;
    const r0 = Y.idx[q] * rowLen;
    const r1 = Y.idx[q + 1] * rowLen;
    const r2 = Y.idx[q + 2] * rowLen;
    const r3 = Y.idx[q + 3] * rowLen;
    const i0 = Y.taps[q];
    const i1 = Y.taps[q + 1];
    const i2 = Y.taps[q + 2];
    const i3 = Y.taps[q + 3];
    // Twice the proven bound, so that the comparison below has slack for its own rounding.
    const margin = 2 * 7 * U32 * hMax * (Math.abs(i0) + Math.abs(i1) + Math.abs(i2) + Math.abs(i3)) * SHIFT;
    const lo = 0.5 - margin;
    const o = dy * rowLen;
    let x = 0;
    for (; x < simdEnd; x++) {
      const v = (hrows[r0 + x] * i0 + hrows[r1 + x] * i1 + hrows[r2 + x] * i2 + hrows[r3 + x] * i3) * SHIFT;
      let r = v + RINT - RINT;
      const d = v - r;
      if (d >= lo || d <= -lo) {
        // Near a tie: the float32 chain itself decides.
        let t = f32(hrows[r3 + x] * i3 * SHIFT);
        t = f32(f32(hrows[r2 + x] * i2 * SHIFT) + t);
        t = f32(f32(hrows[r1 + x] * i1 * SHIFT) + t);
        t = f32(f32(hrows[r0 + x] * i0 * SHIFT) + t);
        r = t + RINT - RINT;
      }
      out[o + x] = r < 0 ? 0 : Math.min(r, 255);
    }
    for (; x < rowLen; x++) {
      const s = hrows[r0 + x] * i0 + hrows[r1 + x] * i1 + hrows[r2 + x] * i2 + hrows[r3 + x] * i3;
      const r = Math.floor((s + HALF) * SHIFT);
      out[o + x] = r < 0 ? 0 : Math.min(r, 255);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// INTER_AREA (downscaling)
// ---------------------------------------------------------------------------------------------

function resizeArea(src: Uint8Array | Uint8ClampedArray, scn: number, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  // OpenCV: scale = 1/(dst/src) in double; the integer path when both are within DBL_EPSILON of
  // an integer (saturate_cast<int> rounds half to even).
  const scaleX = 1 / (dw / sw);
  const scaleY = 1 / (dh / sh);
  const ix = roundHalfEven(scaleX);
  const iy = roundHalfEven(scaleY);
  const fast = Math.abs(scaleX - ix) < DBL_EPSILON && Math.abs(scaleY - iy) < DBL_EPSILON;
  if (fast) return resizeAreaInteger(src, scn, sw, dw, dh, ix, iy);
  return resizeAreaGeneral(src, scn, sw, sh, dw, dh, scaleX, scaleY);
}

/** Integer ratios (`src = k·dst` on both axes): OpenCV's `resizeAreaFast_`. */
function resizeAreaInteger(
  src: Uint8Array | Uint8ClampedArray,
  scn: number,
  sw: number,
  dw: number,
  dh: number,
  kx: number,
  ky: number,
): Uint8Array {
  const srow = sw * scn;
  const W = dw * CN;
  const out = new Uint8Array(dh * W);
  if (kx === 2 && ky === 2) {
    // The 2×2 kernel (SIMD and scalar alike) rounds half up.
    for (let dy = 0; dy < dh; dy++) {
      const a = 2 * dy * srow;
      const b = a + srow;
      let o = dy * W;
      for (let dx = 0; dx < dw; dx++, o += CN) {
        const p = a + 2 * dx * scn;
        const q = b + 2 * dx * scn;
        out[o] = (src[p] + src[p + scn] + src[q] + src[q + scn] + 2) >> 2;
        out[o + 1] = (src[p + 1] + src[p + 1 + scn] + src[q + 1] + src[q + 1 + scn] + 2) >> 2;
        out[o + 2] = (src[p + 2] + src[p + 2 + scn] + src[q + 2] + src[q + 2 + scn] + 2) >> 2;
      }
    }
    return out;
  }
  // Other ratios: saturate_cast<uchar>(sum · float(1/area)), the product in float32.
  const scale = f32(1 / (kx * ky));
  for (let dy = 0; dy < dh; dy++) {
    let o = dy * W;
    for (let dx = 0; dx < dw; dx++, o += CN) {
      for (let c = 0; c < CN; c++) {
        let sum = 0;
        for (let y = 0; y < ky; y++) {
          const r = (dy * ky + y) * srow + dx * kx * scn + c;
          for (let x = 0; x < kx; x++) sum += src[r + x * scn];
        }
        const v = f32(sum * scale) + RINT - RINT;
        out[o + c] = Math.min(v, 255);
      }
    }
  }
  return out;
}

/**
 * OpenCV's `computeResizeAreaTab` for one axis: the source indices and float32 weights that cover
 * each destination cell, grouped by destination (`start[d]…start[d+1]`, in OpenCV's order), plus
 * the largest entry count and weight sum of a cell (for the error bound).
 */
function areaTab(
  srcSize: number,
  dstSize: number,
  scale: number,
): { start: Int32Array; si: Int32Array; alpha: Float32Array; maxCount: number; maxSum: number } {
  const cap = srcSize * 2 + 2;
  const start = new Int32Array(dstSize + 1);
  const si = new Int32Array(cap);
  const alpha = new Float32Array(cap);
  let n = 0;
  let maxCount = 0;
  let maxSum = 0;
  for (let d = 0; d < dstSize; d++) {
    start[d] = n;
    const fs1 = d * scale;
    const fs2 = fs1 + scale;
    const cell = Math.min(scale, srcSize - fs1);
    let s1 = Math.ceil(fs1);
    let s2 = Math.floor(fs2);
    s2 = Math.min(s2, srcSize - 1);
    s1 = Math.min(s1, s2);
    if (s1 - fs1 > 1e-3) {
      si[n] = s1 - 1;
      alpha[n++] = (s1 - fs1) / cell;
    }
    for (let s = s1; s < s2; s++) {
      si[n] = s;
      alpha[n++] = 1 / cell;
    }
    if (fs2 - s2 > 1e-3) {
      si[n] = s2;
      alpha[n++] = Math.min(Math.min(fs2 - s2, 1), cell) / cell;
    }
    let sum = 0;
    for (let k = start[d]; k < n; k++) sum += alpha[k];
    maxCount = Math.max(maxCount, n - start[d]);
    maxSum = Math.max(maxSum, sum);
  }
  start[dstSize] = n;
  return { start, si, alpha, maxCount, maxSum };
}

/**
 * Fractional ratios: OpenCV's `ResizeArea_Invoker` (float32 buffers). OpenCV reduces each source
 * row horizontally (`buf[d] += S·α` in table order), accumulates rows into the destination row
 * (`sum = β·buf` for its first source row, `sum += β·buf` after) and stores saturate_cast
 * (round half to even). Here both passes run in float64, which is the exact weighted sum up to
 * ~1e-16; the float32 chain differs from it by at most
 * `u·255·Ax·Ay·(nx + 2·ny + 2)` (u = 2⁻²⁴, n = entries per cell, A = weight sum per cell), so a
 * value farther than that from a ½ tie rounds the same, and the rest are recomputed in float32.
 */
function resizeAreaGeneral(
  src: Uint8Array | Uint8ClampedArray,
  scn: number,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  scaleX: number,
  scaleY: number,
): Uint8Array {
  const xt = areaTab(sw, dw, scaleX);
  const yt = areaTab(sh, dh, scaleY);
  const W = dw * CN;
  const out = new Uint8Array(dh * W);
  const buf = new Float64Array(W);
  const sum = new Float64Array(W);
  const xs = xt.start;
  const xsi = xt.si;
  const xal = xt.alpha;
  const ys = yt.start;
  const ysi = yt.si;
  const yal = yt.alpha;
  // Twice the proven bound (see above), for slack.
  const margin = 2 * U32 * 256 * xt.maxSum * yt.maxSum * (xt.maxCount + 2 * yt.maxCount + 2);
  const lo = 0.5 - margin;
  let bufRow = -1;
  for (let dy = 0; dy < dh; dy++) {
    for (let j = ys[dy]; j < ys[dy + 1]; j++) {
      const sy = ysi[j];
      if (sy !== bufRow) {
        const s0 = sy * sw * scn;
        for (let dx = 0, d = 0; dx < dw; dx++, d += CN) {
          let acc0 = 0;
          let acc1 = 0;
          let acc2 = 0;
          for (let k = xs[dx]; k < xs[dx + 1]; k++) {
            const a = xal[k];
            const s = s0 + xsi[k] * scn;
            acc0 += src[s] * a;
            acc1 += src[s + 1] * a;
            acc2 += src[s + 2] * a;
          }
          buf[d] = acc0;
          buf[d + 1] = acc1;
          buf[d + 2] = acc2;
        }
        bufRow = sy;
      }
      const beta = yal[j];
      if (j === ys[dy]) {
        for (let i = 0; i < W; i++) sum[i] = beta * buf[i];
      } else {
        for (let i = 0; i < W; i++) sum[i] += beta * buf[i];
      }
    }
    const o = dy * W;
    for (let i = 0; i < W; i++) {
      const v = sum[i];
      let r = v + RINT - RINT;
      const d = v - r;
      if (d >= lo || d <= -lo) r = areaPixelF32(src, scn, sw, xt, yt, dy, (i / CN) | 0, i % CN);
      out[o + i] = Math.min(r, 255);
    }
  }
  return out;
}

/** One output value of {@link resizeAreaGeneral} by OpenCV's float32 arithmetic, step by step. */
function areaPixelF32(
  src: Uint8Array | Uint8ClampedArray,
  scn: number,
  sw: number,
  xt: { start: Int32Array; si: Int32Array; alpha: Float32Array },
  yt: { start: Int32Array; si: Int32Array; alpha: Float32Array },
  dy: number,
  dx: number,
  c: number,
): number {
  let sum = 0;
  for (let j = yt.start[dy]; j < yt.start[dy + 1]; j++) {
    const s0 = yt.si[j] * sw * scn + c;
    let acc = 0;
    for (let k = xt.start[dx]; k < xt.start[dx + 1]; k++) acc = f32(acc + f32(src[s0 + xt.si[k] * scn] * xt.alpha[k]));
    const p = f32(yt.alpha[j] * acc);
    sum = j === yt.start[dy] ? p : f32(sum + p);
  }
  return sum + RINT - RINT;
}
