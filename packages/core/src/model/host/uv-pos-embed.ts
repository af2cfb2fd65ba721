/**
 * The DPT heads' UV position embedding (dualdpt.py `_add_pos_embed`, head_utils.py
 * `create_uv_grid` + `position_grid_to_embed`), computed on the host in float32 exactly as the
 * reference does. Used as the reference for the in-graph version and by tests.
 */
const f = Math.fround;

/**
 * `torch.linspace(start, end, steps)` in float32: the symmetric two-sided formula of the CPU
 * kernel (the first half counts up from `start`, the second half down from `end`).
 */
export function linspaceFloat32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? f(s + f(step * i)) : f(e - f(step * (steps - 1 - i)));
  return out;
}

/**
 * The normalised UV grid of a `width`×`height` map: x spans ±a/√(a²+1)·(w−1)/w and y spans
 * ±1/√(a²+1)·(h−1)/h, with `a = aspectRatio` (image W/H).
 * @returns Float32Array [height, width, 2] of (x, y), row-major
 */
export function uvGrid(width: number, height: number, aspectRatio = width / height): Float32Array {
  const diag = (aspectRatio ** 2 + 1) ** 0.5;
  const spanX = aspectRatio / diag;
  const spanY = 1 / diag;
  const xs = linspaceFloat32((-spanX * (width - 1)) / width, (spanX * (width - 1)) / width, width);
  const ys = linspaceFloat32((-spanY * (height - 1)) / height, (spanY * (height - 1)) / height, height);
  const out = new Float32Array(width * height * 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      out[(y * width + x) * 2] = xs[x];
      out[(y * width + x) * 2 + 1] = ys[y];
    }
  }
  return out;
}

/** Options of {@link uvPosEmbed}. */
export interface UvPosEmbedOptions {
  /** Multiplier applied to the embedding (0.1 in every DA3 head). */
  ratio?: number;
  /** Frequency base ω₀ (100). */
  omega0?: number;
}

/**
 * The embedding a DPT head adds to a `channels`×`mapHeight`×`mapWidth` feature map of an image
 * of `imageWidth`×`imageHeight` pixels: channels `[sin(xω), cos(xω), sin(yω), cos(yω)]` with
 * ω_k = ω₀^(−k/(C/4)), k < C/4, times `ratio`.
 * @returns Float32Array [channels, mapHeight, mapWidth] (channels-first, as it is added)
 */
export function uvPosEmbed(
  channels: number,
  mapHeight: number,
  mapWidth: number,
  imageWidth: number,
  imageHeight: number,
  options: UvPosEmbedOptions = {},
): Float32Array {
  const ratio = options.ratio ?? 0.1;
  const omega0 = options.omega0 ?? 100;
  const quarter = Math.floor(channels / 4);
  const half = Math.floor(channels / 2);
  const grid = uvGrid(mapWidth, mapHeight, imageWidth / imageHeight);
  const omega = new Float32Array(quarter);
  for (let k = 0; k < quarter; k++) omega[k] = f(1 / f(omega0 ** f(k / (half / 2))));
  const n = mapHeight * mapWidth;
  const out = new Float32Array(channels * n);
  for (let p = 0; p < n; p++) {
    const x = grid[p * 2];
    const y = grid[p * 2 + 1];
    for (let k = 0; k < quarter; k++) {
      const ax = f(x * omega[k]);
      const ay = f(y * omega[k]);
      out[k * n + p] = f(f(Math.sin(ax)) * ratio);
      out[(quarter + k) * n + p] = f(f(Math.cos(ax)) * ratio);
      out[(half + k) * n + p] = f(f(Math.sin(ay)) * ratio);
      out[(half + quarter + k) * n + p] = f(f(Math.cos(ay)) * ratio);
    }
  }
  return out;
}
