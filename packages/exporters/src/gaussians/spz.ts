/**
 * *SPZ* (Niantic's compressed Gaussian-splat format, nianticlabs/spz), version 2: a 16-byte
 * header and six quantised attribute blocks, gzipped as one stream.
 *
 * Usage:
 * ```ts
 * await writeSpz(gaussians, sink);                                  // RUB coordinates, SH up to 3
 * await writeSpz(gaussians, sink, { indices: gaussianPruneIndices(prediction) });
 * ```
 *
 * Layout (all little-endian, inside the gzip stream): `magic u32 0x5053474e ("NGSP")`,
 * `version u32 = 2`, `numPoints u32`, `shDegree u8`, `fractionalBits u8`, `flags u8`
 * (1 = antialiased), `reserved u8 = 0`; then for every point in order:
 * positions (3 × 24-bit signed fixed point, `round(x·2^fractionalBits)`), alphas
 * (`round(opacity·255)`), colours (`round(f_dc·0.15·255 + 127.5)`), scales
 * (`round((log s + 10)·16)`), rotations (x, y, z of the unit quaternion with w ≥ 0, each
 * `round(q·127.5 + 127.5)`), SH (coefficient-major, channel inner: `[k][r g b]` for k = 1 …
 * shDim, `round(x·128) + 128` snapped to buckets of 8 (degree 1) or 16 (higher)). Every byte
 * clamps to 0–255. Version 2 is what spz-js and older viewers read (v3 changes the quaternion
 * encoding, v4 switches to ZSTD streams).
 *
 * Coordinates: SPZ stores RUB (x right, y up, z back). The `Gaussians` are OpenCV RDF (the
 * 3DGS PLY frame), so by default (`coordinates: 'rub'`) the writer converts like Niantic's
 * `PackOptions{from: RDF}`: y and z of positions negated, quaternion `(x, y, z, w) → (x, −y,
 * −z, w)`, SH coefficients multiplied by the parity signs of y/z (degree 1: − − +, degree 2:
 * − + + − +, degree 3: − + − − + − +). `coordinates: 'source'` writes the values unconverted,
 * like tools that copy a PLY straight into SPZ.
 *
 * Ranges the format imposes (quantisation, stated so callers can judge): position step
 * 2^−fractionalBits (default 12 bits = 2.4e-4 units; fewer bits are used automatically when a
 * coordinate would not fit 24 bits, `fractionalBits` in the result); log-scale step 1/16 within
 * [−10, 5.94] (scales below e^−10 ≈ 4.5e-5 or above e^5.94 ≈ 380 are clamped; the result counts
 * them); opacity step 1/255; DC step 1/38.25 within about ±3.33; quaternion components 1/127.5;
 * SH degree 1 step 1/16, higher 1/8 within [−1, 1).
 *
 * Streaming: each attribute block is produced in 64 KiB pieces into fflate's streaming gzip,
 * whose output goes through the sink's chunks; no packed copy of the whole cloud is made.
 */
import { Da3Error, type Gaussians, type Sink } from '@da3js/core';
import { Gzip } from 'fflate';
import { withSink } from '../writer.js';
import { checkGaussianShapes, checkGaussianValues, checkIndices, checkOrder, type GaussianRotationOrder, rotationWxyz, shDegreeOf } from './common.js';

/** `0x5053474e`, "NGSP" little-endian. */
export const SPZ_MAGIC = 0x5053474e;
/** The version written. */
export const SPZ_VERSION = 2;
const COLOR_SCALE = 0.15;
/** SH sign flips of the RDF → RUB conversion (Niantic's `flipSh` with x = 1, y = z = −1). */
const RUB_SH_FLIP = [-1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1];

/** Options of {@link writeSpz}. */
export interface WriteSpzOptions {
  /** Write only these Gaussians, in this order. */
  indices?: ArrayLike<number>;
  /** `rub` (default): convert OpenCV/PLY RDF to SPZ's RUB; `source`: store as given. */
  coordinates?: 'rub' | 'source';
  /** Highest SH degree stored, 0–3 (default: all complete bands of the input, at most 3). */
  shDegree?: number;
  /** Fixed-point fraction bits of positions (default 12, lowered automatically to fit 24 bits). */
  fractionalBits?: number;
  /** Sets the antialiased flag (mip-splatting), default false. */
  antialiased?: boolean;
  /** Order of `gaussians.rotations` (default `xyzw`). */
  rotationOrder?: GaussianRotationOrder;
  /** gzip level 0–9 (default 6). */
  level?: number;
}

/** What {@link writeSpz} reports. */
export interface WriteSpzResult {
  readonly count: number;
  /** Compressed bytes handed to the sink. */
  readonly bytes: number;
  /** Bytes before gzip. */
  readonly rawBytes: number;
  readonly shDegree: number;
  readonly fractionalBits: number;
  /** Scale components clamped to the format's log-scale range [−10, 5.94]. */
  readonly clampedScales: number;
}

/** C's `std::round` (half away from zero). */
function roundC(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function toU8(x: number): number {
  const r = roundC(x);
  return Math.min(Math.max(r, 0), 255);
}

function quantizeSh(x: number, bucket: number): number {
  let q = roundC(Math.fround(x * 128)) + 128;
  q = Math.trunc((q + bucket / 2) / bucket) * bucket;
  return Math.min(Math.max(q, 0), 255);
}

/**
 * Writes `gaussians` as an SPZ v2 file into `sink` (closed on success, aborted on error). See
 * the module doc for the layout, coordinates and quantisation.
 * @throws Da3Error `BAD_SHAPE`, `NON_FINITE`, `BAD_VALUE` (as {@link writeGaussiansPly}; also a
 *   position too large for 24 bits, bad options)
 */
export async function writeSpz(gaussians: Gaussians, sink: Sink, options: WriteSpzOptions = {}): Promise<WriteSpzResult> {
  const where = 'writeSpz';
  return withSink(sink, async (out) => {
    const total = checkGaussianShapes(gaussians, where);
    const sel = checkIndices(options.indices, total, where);
    const order = checkOrder(options.rotationOrder, where);
    const coords = options.coordinates ?? 'rub';
    if (coords !== 'rub' && coords !== 'source') throw new Da3Error('BAD_VALUE', `${where}: coordinates must be 'rub' or 'source', got ${JSON.stringify(coords)}`);
    const K = gaussians.shCoefficients;
    const maxDegree = Math.min(shDegreeOf(K), 3);
    const degree = options.shDegree ?? maxDegree;
    if (!Number.isInteger(degree) || degree < 0 || degree > maxDegree) {
      throw new Da3Error('BAD_VALUE', `${where}: shDegree must be an integer in [0, ${maxDegree}] for ${K} coefficients, got ${options.shDegree}`);
    }
    const level = options.level ?? 6;
    if (!Number.isInteger(level) || level < 0 || level > 9) throw new Da3Error('BAD_VALUE', `${where}: level must be 0–9, got ${level}`);
    checkGaussianValues(gaussians, sel, where);
    const n = sel ? sel.length : total;
    if (n > 0xffffffff) throw new Da3Error('BAD_VALUE', `${where}: ${n} points do not fit the u32 count`);
    const idx = (j: number) => (sel ? sel[j] : j);
    const { means, scales, opacities, harmonics, rotations } = gaussians;

    // Fixed-point bits: the requested (or 12), lowered until every coordinate fits 24 bits.
    let maxAbs = 0;
    for (let j = 0; j < n; j++) {
      const i = idx(j);
      for (let a = 0; a < 3; a++) maxAbs = Math.max(maxAbs, Math.abs(means[3 * i + a]));
    }
    const fits = (bits: number) => roundC(Math.fround(maxAbs * 2 ** bits)) <= 0x7fffff;
    let bits: number;
    if (options.fractionalBits !== undefined) {
      bits = options.fractionalBits;
      if (!Number.isInteger(bits) || bits < 0 || bits > 23) throw new Da3Error('BAD_VALUE', `${where}: fractionalBits must be an integer in [0, 23], got ${bits}`);
      if (!fits(bits)) throw new Da3Error('BAD_VALUE', `${where}: |position| up to ${maxAbs} does not fit 24-bit fixed point with ${bits} fraction bits`);
    } else {
      bits = 12;
      while (bits > 0 && !fits(bits)) bits--;
      if (!fits(bits)) throw new Da3Error('BAD_VALUE', `${where}: |position| up to ${maxAbs} does not fit 24-bit fixed point (SPZ positions are below 2^23)`);
    }

    const shDim = (degree + 1) ** 2 - 1;
    const flipP = coords === 'rub' ? [1, -1, -1] : [1, 1, 1];
    const flipSh = coords === 'rub' ? RUB_SH_FLIP : RUB_SH_FLIP.map(() => 1);

    const fq = [flipP[1] * flipP[2], flipP[0] * flipP[2], flipP[0] * flipP[1]];

    const gz = new Gzip({ level: level as 0, mtime: 0 }, (chunk) => out.bytes(chunk));
    const BLOCK = 1 << 16;
    let block = new Uint8Array(BLOCK);
    let at = 0;
    let raw = 0;
    const put = (v: number): void => {
      block[at++] = v;
      if (at === BLOCK) {
        gz.push(block);
        raw += BLOCK;
        block = new Uint8Array(BLOCK); // fflate may keep the pushed bytes as its window
        at = 0;
      }
    };
    const every = async (j: number): Promise<void> => {
      if ((j & 8191) === 8191) await out.flushIfFull();
    };

    // Header.
    const header = new DataView(new ArrayBuffer(16));
    header.setUint32(0, SPZ_MAGIC, true);
    header.setUint32(4, SPZ_VERSION, true);
    header.setUint32(8, n, true);
    header.setUint8(12, degree);
    header.setUint8(13, bits);
    header.setUint8(14, options.antialiased ? 1 : 0);
    header.setUint8(15, 0);
    for (let k = 0; k < 16; k++) put(header.getUint8(k));

    // Positions: 24-bit two's complement, little-endian.
    const scale = 2 ** bits;
    for (let j = 0; j < n; j++) {
      const i = idx(j);
      for (let a = 0; a < 3; a++) {
        const fixed = roundC(Math.fround(means[3 * i + a] * scale) * flipP[a]);
        put(fixed & 0xff);
        put((fixed >> 8) & 0xff);
        put((fixed >> 16) & 0xff);
      }
      await every(j);
    }
    // Alphas.
    for (let j = 0; j < n; j++) {
      put(toU8(opacities[idx(j)] * 255));
      await every(j);
    }
    // Colours (SH DC), float32 arithmetic like Niantic's packer.
    for (let j = 0; j < n; j++) {
      const h = 3 * K * idx(j);
      for (let c = 0; c < 3; c++) put(toU8(Math.fround(Math.fround(harmonics[h + c * K] * (COLOR_SCALE * 255)) + 0.5 * 255)));
      await every(j);
    }
    // Scales: log (rounded to float32 as a PLY stores it), then (l + 10)·16.
    let clamped = 0;
    for (let j = 0; j < n; j++) {
      const i = idx(j);
      for (let a = 0; a < 3; a++) {
        const v = Math.fround(Math.fround(Math.fround(Math.log(scales[3 * i + a])) + 10) * 16);
        const r = roundC(v);
        if (r < 0 || r > 255) clamped++;
        put(toU8(v));
      }
      await every(j);
    }
    // Rotations: normalised, converted, w made non-negative, x y z stored.
    const q = new Float64Array(4);
    for (let j = 0; j < n; j++) {
      rotationWxyz(q, rotations, idx(j), order);
      const s = (q[0] < 0 ? -127.5 : 127.5) / Math.hypot(q[0], q[1], q[2], q[3]);
      put(toU8(q[1] * fq[0] * s + 127.5));
      put(toU8(q[2] * fq[1] * s + 127.5));
      put(toU8(q[3] * fq[2] * s + 127.5));
      await every(j);
    }
    // Spherical harmonics: [k][channel], k = 1 … shDim.
    for (let j = 0; j < n; j++) {
      const h = 3 * K * idx(j);
      for (let k = 1; k <= shDim; k++) {
        const bucket = k <= 3 ? 8 : 16;
        for (let c = 0; c < 3; c++) put(quantizeSh(harmonics[h + c * K + k] * flipSh[k - 1], bucket));
      }
      await every(j);
    }
    gz.push(block.subarray(0, at), true);
    raw += at;
    return { count: n, bytes: out.written, rawBytes: raw, shDegree: degree, fractionalBits: bits, clampedScales: clamped };
  });
}
