import { Da3Error } from '../../errors.js';

/**
 * DINOv2's position-embedding resize (vision_transformer.py `interpolate_pos_encoding`) on the
 * host: the `grid`×`grid` patch embedding is resized with PyTorch bicubic (A = −0.75,
 * align_corners=False, no antialias, border-clamped taps) using **scale factors**
 * `(n + offset)/grid`, so source coordinates are `(i + ½)·grid/(n + offset) − ½`, not `grid/n`.
 */
const f = Math.fround;
const A = -0.75;

function cubicWeights(t: number): [number, number, number, number] {
  const c1 = (x: number) => f(f(f(f(f(A + 2) * x) - (A + 3)) * x) * x + 1);
  const c2 = (x: number) => f(f(f(f(f(f(A * x) - 5 * A) * x) + 8 * A) * x) - 4 * A);
  return [c2(f(t + 1)), c1(t), c1(f(1 - t)), c2(f(2 - t))];
}

/** Source taps and weights of one output axis (float32 coordinate maths as PyTorch's kernel). */
function axisTaps(outSize: number, inSize: number, scaleFactor: number): { idx: Int32Array; w: Float32Array } {
  const scale = f(1 / scaleFactor);
  const idx = new Int32Array(outSize * 4);
  const w = new Float32Array(outSize * 4);
  for (let i = 0; i < outSize; i++) {
    const real = f(f(scale * f(i + 0.5)) - 0.5);
    const i0 = Math.floor(real);
    const t = f(real - i0);
    const ws = cubicWeights(t);
    for (let k = 0; k < 4; k++) {
      idx[i * 4 + k] = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      w[i * 4 + k] = ws[k];
    }
  }
  return { idx, w };
}

/** Options of {@link interpolatePosEmbed}. */
export interface PosEmbedInterpOptions {
  /** Side of the square training grid (37 for 518 px / 14). */
  grid?: number;
  /** DINOv2's `interpolate_offset` (0.1). */
  offset?: number;
  /** Patch size in pixels (14). */
  patchSize?: number;
}

/**
 * Resizes a `[1 + grid², C]` position embedding (row 0 = cls) to an image of
 * `imageHeight`×`imageWidth` pixels (multiples of the patch size).
 * @returns Float32Array [1 + h·w, C] with h = H/14, w = W/14; the embedding itself (a copy) when
 *   the image is the training size (h·w = grid² and H = W), as the reference does
 */
export function interpolatePosEmbed(
  posEmbed: Float32Array,
  channels: number,
  imageHeight: number,
  imageWidth: number,
  options: PosEmbedInterpOptions = {},
): Float32Array {
  const grid = options.grid ?? 37;
  const offset = options.offset ?? 0.1;
  const patch = options.patchSize ?? 14;
  if (posEmbed.length !== (1 + grid * grid) * channels) {
    throw new Da3Error('BAD_SHAPE', `interpolatePosEmbed: expected ${(1 + grid * grid) * channels} values ([${1 + grid * grid}, ${channels}]), got ${posEmbed.length}`);
  }
  if (imageHeight % patch !== 0 || imageWidth % patch !== 0 || imageHeight <= 0 || imageWidth <= 0) {
    throw new Da3Error('BAD_SHAPE', `interpolatePosEmbed: image ${imageHeight}×${imageWidth} is not a positive multiple of ${patch}`);
  }
  const h = imageHeight / patch;
  const w = imageWidth / patch;
  if (h * w === grid * grid && imageHeight === imageWidth) return posEmbed.slice();
  const ys = axisTaps(h, grid, (h + offset) / grid);
  const xs = axisTaps(w, grid, (w + offset) / grid);
  const out = new Float32Array((1 + h * w) * channels);
  out.set(posEmbed.subarray(0, channels), 0);
  const rows = new Float64Array(4);
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0; ox < w; ox++) {
      const o = (1 + oy * w + ox) * channels;
      for (let c = 0; c < channels; c++) {
        for (let ky = 0; ky < 4; ky++) {
          const rowBase = 1 + ys.idx[oy * 4 + ky] * grid;
          let s = 0;
          for (let kx = 0; kx < 4; kx++) s += posEmbed[(rowBase + xs.idx[ox * 4 + kx]) * channels + c] * xs.w[ox * 4 + kx];
          rows[ky] = f(s);
        }
        out[o + c] = rows[0] * ys.w[oy * 4] + rows[1] * ys.w[oy * 4 + 1] + rows[2] * ys.w[oy * 4 + 2] + rows[3] * ys.w[oy * 4 + 3];
      }
    }
  }
  return out;
}
