/**
 * Test-only, deliberately plain emulation of OpenCV 4.6 `cv2.resize` for CV_8UC3 (INTER_AREA
 * downscaling, INTER_CUBIC): every float32 operation goes through Math.fround in OpenCV's order,
 * with no shortcuts. The library's `resizeImageU8` evaluates most values exactly in float64 and
 * only falls back to float32 emulation near rounding ties; the property tests check that both
 * agree bit for bit. This file was validated against the fixtures' OpenCV output.
 */
const f = Math.fround;

function rne(x: number): number {
  const fl = Math.floor(x);
  const d = x - fl;
  if (d > 0.5) return fl + 1;
  if (d < 0.5) return fl;
  return fl % 2 === 0 ? fl : fl + 1;
}
const sat = (v: number): number => (v < 0 ? 0 : Math.min(v, 255));

function cubicTaps(x: number): number[] {
  const A = -0.75;
  const x1 = f(x + 1);
  const c0 = f(f(f(f(f(f(A * x1) - 5 * A) * x1) + 8 * A) * x1) - 4 * A);
  const c1 = f(f(f(f(f(1.25 * x) - 2.25) * x) * x) + 1);
  const y = f(1 - x);
  const c2 = f(f(f(f(f(1.25 * y) - 2.25) * y) * y) + 1);
  const c3 = f(f(f(1 - c0) - c1) - c2);
  return [c0, c1, c2, c3].map((c) => rne(c * 2048));
}

function cubicAxis(src: number, dst: number): { idx: number[][]; taps: number[][] } {
  const scale = 1 / (dst / src);
  const idx: number[][] = [];
  const taps: number[][] = [];
  for (let d = 0; d < dst; d++) {
    const fx = f((d + 0.5) * scale - 0.5);
    const s = Math.floor(fx);
    taps.push(cubicTaps(f(fx - s)));
    idx.push([0, 1, 2, 3].map((k) => Math.min(Math.max(s - 1 + k, 0), src - 1)));
  }
  return { idx, taps };
}

/** INTER_CUBIC on interleaved RGB. */
export function cubicF32(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const X = cubicAxis(sw, dw);
  const Y = cubicAxis(sh, dh);
  const W = dw * 3;
  const h: number[][] = [];
  for (let sy = 0; sy < sh; sy++) {
    const row: number[] = [];
    for (let dx = 0; dx < dw; dx++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += src[(sy * sw + X.idx[dx][k]) * 3 + c] * X.taps[dx][k];
        row.push(v);
      }
    }
    h.push(row);
  }
  const out = new Uint8Array(dh * W);
  const simdEnd = W - (W % 8);
  for (let dy = 0; dy < dh; dy++) {
    const [r0, r1, r2, r3] = Y.idx[dy].map((r) => h[r]);
    const [i0, i1, i2, i3] = Y.taps[dy];
    const s = 2 ** -22;
    for (let x = 0; x < W; x++) {
      if (x < simdEnd) {
        let t = f(r3[x] * f(i3 * s));
        t = f(f(r2[x] * f(i2 * s)) + t);
        t = f(f(r1[x] * f(i1 * s)) + t);
        t = f(f(r0[x] * f(i0 * s)) + t);
        out[dy * W + x] = sat(rne(t));
      } else {
        out[dy * W + x] = sat(Math.floor((r0[x] * i0 + r1[x] * i1 + r2[x] * i2 + r3[x] * i3 + 2 ** 21) / 2 ** 22));
      }
    }
  }
  return out;
}

function areaTab(ssize: number, dsize: number, scale: number): Array<{ di: number; si: number; alpha: number }> {
  const tab: Array<{ di: number; si: number; alpha: number }> = [];
  for (let dx = 0; dx < dsize; dx++) {
    const fsx1 = dx * scale;
    const fsx2 = fsx1 + scale;
    const cellWidth = Math.min(scale, ssize - fsx1);
    let sx1 = Math.ceil(fsx1);
    let sx2 = Math.floor(fsx2);
    sx2 = Math.min(sx2, ssize - 1);
    sx1 = Math.min(sx1, sx2);
    if (sx1 - fsx1 > 1e-3) tab.push({ di: dx, si: sx1 - 1, alpha: f((sx1 - fsx1) / cellWidth) });
    for (let sx = sx1; sx < sx2; sx++) tab.push({ di: dx, si: sx, alpha: f(1 / cellWidth) });
    if (fsx2 - sx2 > 1e-3) tab.push({ di: dx, si: sx2, alpha: f(Math.min(Math.min(fsx2 - sx2, 1), cellWidth) / cellWidth) });
  }
  return tab;
}

/** INTER_AREA (downscaling only) on interleaved RGB. */
export function areaF32(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const scaleX = 1 / (dw / sw);
  const scaleY = 1 / (dh / sh);
  const ix = rne(scaleX);
  const iy = rne(scaleY);
  const W = dw * 3;
  const out = new Uint8Array(dh * W);
  if (Math.abs(scaleX - ix) < 2.220446049250313e-16 && Math.abs(scaleY - iy) < 2.220446049250313e-16) {
    for (let dy = 0; dy < dh; dy++) {
      for (let dx = 0; dx < dw; dx++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let y = 0; y < iy; y++) for (let x = 0; x < ix; x++) sum += src[((dy * iy + y) * sw + dx * ix + x) * 3 + c];
          out[dy * W + dx * 3 + c] = ix === 2 && iy === 2 ? (sum + 2) >> 2 : sat(rne(f(sum * f(1 / (ix * iy)))));
        }
      }
    }
    return out;
  }
  const xtab = areaTab(sw, dw, scaleX);
  const ytab = areaTab(sh, dh, scaleY);
  const buf = new Array<number>(W);
  const sum = new Array<number>(W).fill(0);
  let prev = ytab[0].di;
  const store = (dy: number): void => {
    for (let i = 0; i < W; i++) out[dy * W + i] = sat(rne(sum[i]));
  };
  for (const { di: dy, si: sy, alpha: beta } of ytab) {
    buf.fill(0);
    for (const { di, si, alpha } of xtab) {
      for (let c = 0; c < 3; c++) buf[di * 3 + c] = f(buf[di * 3 + c] + f(src[(sy * sw + si) * 3 + c] * alpha));
    }
    if (dy !== prev) {
      store(prev);
      for (let i = 0; i < W; i++) sum[i] = f(beta * buf[i]);
      prev = dy;
    } else {
      for (let i = 0; i < W; i++) sum[i] = f(sum[i] + f(beta * buf[i]));
    }
  }
  store(prev);
  return out;
}
