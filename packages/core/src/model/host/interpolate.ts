import { Da3Error } from '../../errors.js';

/**
 * Bilinear resize with `align_corners=True` (head_utils.py `custom_interpolate`, i.e.
 * `F.interpolate(mode='bilinear', align_corners=True)`) of a channels-first `[..., H, W]` map.
 * Source coordinate of output pixel i: `i·(in−1)/(out−1)` (0 when out = 1).
 * @param x Float32Array [planes, inH, inW] (planes = batch × channels)
 * @returns Float32Array [planes, outH, outW]
 */
export function interpolateBilinearAlignCorners(x: Float32Array, inH: number, inW: number, outH: number, outW: number): Float32Array {
  const plane = inH * inW;
  if (inH < 1 || inW < 1 || outH < 1 || outW < 1 || x.length % plane !== 0) {
    throw new Da3Error('BAD_SHAPE', `interpolateBilinearAlignCorners: ${x.length} values is not a whole number of ${inH}×${inW} planes (→ ${outH}×${outW})`);
  }
  const planes = x.length / plane;
  const f = Math.fround;
  const axis = (outN: number, inN: number) => {
    const scale = outN > 1 ? f((inN - 1) / (outN - 1)) : 0;
    const i0 = new Int32Array(outN);
    const i1 = new Int32Array(outN);
    const w1 = new Float32Array(outN);
    for (let i = 0; i < outN; i++) {
      const real = f(scale * i);
      const lo = Math.min(Math.floor(real), inN - 1);
      i0[i] = lo;
      i1[i] = Math.min(lo + 1, inN - 1);
      w1[i] = f(real - lo);
    }
    return { i0, i1, w1 };
  };
  const ys = axis(outH, inH);
  const xs = axis(outW, inW);
  const out = new Float32Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    const src = p * plane;
    const dst = p * outH * outW;
    for (let oy = 0; oy < outH; oy++) {
      const r0 = src + ys.i0[oy] * inW;
      const r1 = src + ys.i1[oy] * inW;
      const wy1 = ys.w1[oy];
      const wy0 = f(1 - wy1);
      for (let ox = 0; ox < outW; ox++) {
        const wx1 = xs.w1[ox];
        const wx0 = f(1 - wx1);
        const a = x[r0 + xs.i0[ox]];
        const b = x[r0 + xs.i1[ox]];
        const c = x[r1 + xs.i0[ox]];
        const d = x[r1 + xs.i1[ox]];
        out[dst + oy * outW + ox] = wy0 * (wx0 * a + wx1 * b) + wy1 * (wx0 * c + wx1 * d);
      }
    }
  }
  return out;
}
