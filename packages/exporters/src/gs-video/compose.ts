/**
 * The frames of the reference's `gs_video` (`export_to_gs_video`, `utils/export/gs.py`): the
 * rendered colour `(clamp(0, 1)·255).byte()` beside (`hcat`) or above (`vcat`) the expected depth
 * coloured with Spectral (`vis_depth_map_tensor`: log depth between the 1st percentile of the
 * positive depths and the 99th of all depths, over the whole video), an 8-pixel white gap between.
 * float32 arithmetic is reproduced step by step (torch's `quantile`, `lerp`, `log`), so frames
 * equal the reference's byte for byte up to one-ulp differences of `log`.
 */
import { Da3Error, selectKth } from '@da3js/core';
import { spectralIndex, spectralLut } from '../images/spectral.js';

const f32 = Math.fround;

/** Where the depth panel goes: `'hcat'` right of the colour (the reference's default), `'vcat'` below, `null` none. */
export type GsVideoDepthPanel = 'hcat' | 'vcat' | null;

/** The reference's gap between the panels (`hcat`/`vcat` `gap=8`, `gap_color=1`: white). */
export const GS_VIDEO_PANEL_GAP = 8;

/** torch allows `quantile` on at most 16M values; the reference passes the first 16M. */
export const QUANTILE_MAX_VALUES = 16_000_000;

/**
 * The frame size of a `gs_video` whose colour panel is `width` × `height`: the panels and gap,
 * then rounded up to even numbers (H.264 in 4:2:0 needs them; the reference's ffmpeg call fails on
 * odd sizes, here a black row/column is added on the bottom/right).
 */
export function gsVideoFrameSize(width: number, height: number, panel: GsVideoDepthPanel): { width: number; height: number; contentWidth: number; contentHeight: number } {
  const contentWidth = panel === 'hcat' ? 2 * width + GS_VIDEO_PANEL_GAP : width;
  const contentHeight = panel === 'vcat' ? 2 * height + GS_VIDEO_PANEL_GAP : height;
  return { width: contentWidth + (contentWidth & 1), height: contentHeight + (contentHeight & 1), contentWidth, contentHeight };
}

/**
 * `torch.quantile(x, q)` for a float32 tensor (linear interpolation): rank `q·(n−1)` in float32,
 * the two neighbouring order statistics, then torch's `lerp` in float32. NaN if `x` holds a NaN.
 * `values` is reordered.
 * @throws Da3Error `EMPTY_INPUT` for no values (torch raises too)
 */
export function quantileF32(values: Float32Array, q: number): number {
  const n = values.length;
  if (n === 0) throw new Da3Error('EMPTY_INPUT', 'quantileF32: no values');
  for (let i = 0; i < n; i++) if (Number.isNaN(values[i])) return Number.NaN;
  const rank = f32(f32(q) * (n - 1));
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  const a = selectKth(values, below);
  let b = a;
  if (above !== below) {
    // The next order statistic: the smallest value right of `below` after selection.
    b = Number.POSITIVE_INFINITY;
    for (let i = below + 1; i < n; i++) if (values[i] < b) b = values[i];
  }
  const w = f32(rank - below);
  return w < 0.5 ? f32(a + f32(w * f32(b - a))) : f32(b - f32(f32(b - a) * f32(1 - w)));
}

/** The log-depth range of {@link GsVideoDepthRange}. */
export interface GsVideoDepthRange {
  /** `log(quantile(positive depths, 0.01))`, or 0 when no depth is positive. */
  readonly near: number;
  /** `log(quantile(all depths, 0.99))`. */
  readonly far: number;
}

/**
 * `vis_depth_map_tensor`'s range over a whole video: depths are the frames' expected depth maps in
 * order (the first 16M values, and the first 16M positive values, as the reference slices them).
 */
export function gsVideoDepthRange(depths: readonly Float32Array[]): GsVideoDepthRange {
  const total = depths.reduce((s, d) => s + d.length, 0);
  const all = new Float32Array(Math.min(total, QUANTILE_MAX_VALUES));
  let at = 0;
  for (const d of depths) {
    if (at >= all.length) break;
    const n = Math.min(d.length, all.length - at);
    all.set(d.subarray(0, n), at);
    at += n;
  }
  let positives = 0;
  for (const d of depths) for (let i = 0; i < d.length && positives < QUANTILE_MAX_VALUES; i++) if (d[i] > 0) positives++;
  const pos = new Float32Array(positives);
  at = 0;
  for (const d of depths) for (let i = 0; i < d.length && at < positives; i++) if (d[i] > 0) pos[at++] = d[i];
  const far = f32(Math.log(quantileF32(all, 0.99)));
  const near = positives > 0 ? f32(Math.log(quantileF32(pos, 0.01))) : 0;
  return { near, far };
}

let spectralBytes: Uint8Array | null = null;
/** Spectral as the reference turns it into bytes here: float32 colour × 255 in float32, truncated. */
function spectralF32Bytes(): Uint8Array {
  if (spectralBytes) return spectralBytes;
  const lut = spectralLut();
  const out = new Uint8Array(lut.length);
  for (let i = 0; i < lut.length; i++) out[i] = Math.trunc(f32(f32(lut[i]) * 255));
  spectralBytes = out;
  return out;
}

/** `(clamp(v, 0, 1)·255).byte()` in float32 (NaN → 0). */
export function colorByte(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 1) return 255;
  return Math.trunc(f32(f32(v) * 255));
}

/**
 * One video frame, RGB24 row-major: the colour panel and, unless `panel` is null, the depth
 * panel coloured with `range`, the gap white, padding black (see {@link gsVideoFrameSize}).
 * @param rgb `[height, width, 3]` rendered colour (float, not clamped), or its bytes ({@link colorByte})
 * @param depth `[height, width]` expected depth (needed unless `panel` is null)
 */
export function composeGsVideoFrame(rgb: Float32Array | Uint8Array, depth: Float32Array | null | undefined, width: number, height: number, panel: GsVideoDepthPanel, range: GsVideoDepthRange | null, out?: Uint8Array): Uint8Array {
  const size = gsVideoFrameSize(width, height, panel);
  const stride = size.width * 3;
  const frame = out ?? new Uint8Array(stride * size.height);
  if (out) frame.fill(0);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    if (rgb instanceof Uint8Array) frame.set(rgb.subarray(row, row + width * 3), y * stride);
    else for (let x = 0; x < width * 3; x++) frame[y * stride + x] = colorByte(rgb[row + x]);
  }
  if (panel === null) return frame;
  if (!depth || !range) throw new Da3Error('BAD_VALUE', 'composeGsVideoFrame: the depth panel needs the expected depth and its range');
  const lut = spectralF32Bytes();
  const { near, far } = range;
  const span = f32(far - near);
  const [ox, oy] = panel === 'hcat' ? [width + GS_VIDEO_PANEL_GAP, 0] : [0, height + GS_VIDEO_PANEL_GAP];
  // The white gap.
  if (panel === 'hcat') {
    for (let y = 0; y < height; y++) frame.fill(255, y * stride + width * 3, y * stride + ox * 3);
  } else {
    for (let y = height; y < oy; y++) frame.fill(255, y * stride, y * stride + width * 3);
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = f32(f32(f32(Math.log(depth[y * width + x])) - near) / span);
      if (v < 0) v = 0;
      else if (v > 1) v = 1;
      const i = spectralIndex(v);
      const o = (oy + y) * stride + (ox + x) * 3;
      if (i < 0) {
        frame[o] = frame[o + 1] = frame[o + 2] = 0;
      } else {
        frame[o] = lut[i * 3];
        frame[o + 1] = lut[i * 3 + 1];
        frame[o + 2] = lut[i * 3 + 2];
      }
    }
  }
  return frame;
}
