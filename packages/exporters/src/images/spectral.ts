/**
 * *matplotlib's `Spectral` colormap, entry for entry: the 256-entry lookup table that
 * `matplotlib.colormaps['Spectral']` builds, and its lookup rule.*
 *
 * `Spectral` is the ColorBrewer 11-class diverging scheme (Cynthia Brewer, colorbrewer2.org, Apache
 * 2.0-style licence), listed in matplotlib's `_cm.py` as `_Spectral_data` and turned into a
 * `LinearSegmentedColormap.from_list('Spectral', data, N=256)`: the colours sit at
 * `np.linspace(0, 1, 11)` and the table is built by `colors._create_lookup_table` (matplotlib
 * ≥ 3.x): with control points `x_k = 255·k/10`, entry i (0 < i < 255) linearly interpolates the two
 * control points around `255·linspace(0, 1, 256)[i]`; entry 0 and 255 are the end colours. Every
 * step is reproduced in float64 in the same order, so the table equals matplotlib's bit for bit
 * (checked against matplotlib 3.6 in the tests).
 *
 * Lookup (`Colormap.__call__` for floats, N = 256): `i = int(x·256)` (the product in the input's
 * dtype), `x == 1` → 255, NaN → the "bad" colour (transparent black), out of [0, 1] → the end
 * colours. `visualize_depth` then keeps RGB and takes `uint8(rgb·255)` (truncation).
 */

/** matplotlib `_cm._Spectral_data` (ColorBrewer Spectral-11, red → yellow → blue), RGB in [0, 1]. */
export const SPECTRAL_CONTROL_POINTS: readonly (readonly [number, number, number])[] = Object.freeze([
  [0.61960784313725492, 0.003921568627450980, 0.25882352941176473],
  [0.83529411764705885, 0.24313725490196078, 0.30980392156862746],
  [0.95686274509803926, 0.42745098039215684, 0.2627450980392157],
  [0.99215686274509807, 0.68235294117647061, 0.38039215686274508],
  [0.99607843137254903, 0.8784313725490196, 0.54509803921568623],
  [1.0, 1.0, 0.74901960784313726],
  [0.90196078431372551, 0.96078431372549022, 0.59607843137254901],
  [0.6705882352941176, 0.8666666666666667, 0.64313725490196083],
  [0.4, 0.76078431372549016, 0.6470588235294118],
  [0.19607843137254902, 0.53333333333333333, 0.74117647058823533],
  [0.36862745098039218, 0.30980392156862746, 0.63529411764705879],
] as const);

/** `np.linspace(0, 1, n)` exactly: `i · (1/(n−1))`, the last value set to 1. */
function linspace01(n: number): Float64Array {
  const y = new Float64Array(n);
  const step = 1 / (n - 1);
  for (let i = 0; i < n; i++) y[i] = i * step;
  y[n - 1] = 1;
  return y;
}

/** `matplotlib.colors._create_lookup_table(N, data, gamma=1)` for continuous data (y0 = y1). */
function lookupTable(n: number, xs: Float64Array, ys: readonly number[]): Float64Array {
  const m = xs.length;
  const x = new Float64Array(m);
  for (let k = 0; k < m; k++) x[k] = xs[k] * (n - 1);
  const lin = linspace01(n);
  const lut = new Float64Array(n);
  lut[0] = ys[0];
  lut[n - 1] = ys[m - 1];
  for (let i = 1; i < n - 1; i++) {
    const xi = (n - 1) * lin[i];
    let ind = 0; // np.searchsorted(x, xi, side='left')
    while (ind < m && x[ind] < xi) ind++;
    const distance = (xi - x[ind - 1]) / (x[ind] - x[ind - 1]);
    lut[i] = distance * (ys[ind] - ys[ind - 1]) + ys[ind - 1];
  }
  for (let i = 0; i < n; i++) lut[i] = Math.min(1, Math.max(0, lut[i]));
  return lut;
}

let cached: Float64Array | null = null;

/**
 * The 256-entry Spectral table as matplotlib holds it (`cmap._lut[:256, :3]`): float64 RGB,
 * row-major [256, 3]. Entry 0 is dark red, 255 dark blue/violet.
 */
export function spectralLut(): Float64Array {
  if (cached) return cached;
  const xs = linspace01(SPECTRAL_CONTROL_POINTS.length);
  const out = new Float64Array(256 * 3);
  for (let c = 0; c < 3; c++) {
    const lut = lookupTable(
      256,
      xs,
      SPECTRAL_CONTROL_POINTS.map((p) => p[c]),
    );
    for (let i = 0; i < 256; i++) out[i * 3 + c] = lut[i];
  }
  cached = out;
  return out;
}

let cachedBytes: Uint8Array | null = null;

/** {@link spectralLut} as `visualize_depth` turns it into bytes: `uint8(rgb · 255)` (truncated). */
export function spectralLutBytes(): Uint8Array {
  if (cachedBytes) return cachedBytes;
  const lut = spectralLut();
  const out = new Uint8Array(lut.length);
  for (let i = 0; i < lut.length; i++) out[i] = Math.trunc(lut[i] * 255);
  cachedBytes = out;
  return out;
}

/**
 * The table index matplotlib uses for a float32 value `x` (already rounded to float32):
 * `int(x·256)` with `x·256` in float32 (exact), `x == 1` → 255, clamped to [0, 255]. NaN → -1
 * (the "bad" colour).
 */
export function spectralIndex(x: number): number {
  if (Number.isNaN(x)) return -1;
  let v = x * 256; // exact for a float32 x (a power-of-two scale)
  if (v < 0) return 0;
  if (v >= 256) v = 255;
  return Math.trunc(v);
}
