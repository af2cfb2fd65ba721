import { GSPLAT_CONSTANTS } from './constants.js';
import type { RasterFrame } from './frame.js';
import { SPLAT, SPLAT_STRIDE } from './project.js';

const TILE = GSPLAT_CONSTANTS.tileSize;

/**
 * `exp(−s)` for s ∈ [0, 8] by linear interpolation in a table of step 1/512: relative error
 * ≤ 5e-7 (gsplat's CUDA kernel uses `__expf`, ~2 ulp). Larger s falls back to `Math.exp`.
 * Three times faster than `Math.exp` in the compositing loop, which is dominated by it.
 */
const EXP_STEPS = 512;
const EXP_MAX = 8;
const EXP_TABLE = (() => {
  const t = new Float64Array(EXP_MAX * EXP_STEPS + 2);
  for (let i = 0; i < t.length; i++) t[i] = Math.exp(-i / EXP_STEPS);
  return t;
})();

/** Reusable buffers of {@link sortSplatsByDepth}; grow as needed. */
export interface SortScratch {
  keys: Uint32Array;
  keys2: Uint32Array;
  ids2: Int32Array;
  counts: Uint32Array;
}

/** Fresh {@link SortScratch} (empty; grown on first use). */
export function createSortScratch(): SortScratch {
  return { keys: new Uint32Array(0), keys2: new Uint32Array(0), ids2: new Int32Array(0), counts: new Uint32Array(2048 * 3) };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * Writes the indices of the visible splats (RX > 0) of `[0, count)` into `order`, sorted by
 * depth front to back, ties in index order, and returns how many there are.
 *
 * The key is the float32 bit pattern of the depth read as an unsigned integer, as in gsplat's
 * `isect_ids` (so its order is gsplat's, negative depths included); the radix sort is stable like
 * gsplat's CUB radix sort.
 */
export function sortSplatsByDepth(splats: Float32Array, count: number, order: Int32Array, scratch: SortScratch): number {
  let n = 0;
  for (let g = 0; g < count; g++) if (splats[g * SPLAT_STRIDE + SPLAT.RX] > 0) order[n++] = g;
  if (scratch.keys.length < n) {
    const size = Math.max(n, Math.ceil(scratch.keys.length * 1.5));
    scratch.keys = new Uint32Array(size);
    scratch.keys2 = new Uint32Array(size);
    scratch.ids2 = new Int32Array(size);
  }
  const keys = scratch.keys;
  for (let i = 0; i < n; i++) {
    f32[0] = splats[order[i] * SPLAT_STRIDE + SPLAT.DEPTH];
    keys[i] = u32[0];
  }
  // LSD radix sort, 11/11/10 bits.
  let srcK = keys;
  let srcI: Int32Array = order;
  let dstK = scratch.keys2;
  let dstI = scratch.ids2;
  const counts = scratch.counts;
  const passes: [number, number][] = [
    [0, 2047],
    [11, 2047],
    [22, 1023],
  ];
  for (const [shift, mask] of passes) {
    counts.fill(0, 0, mask + 1);
    for (let i = 0; i < n; i++) counts[(srcK[i] >>> shift) & mask]++;
    let sum = 0;
    for (let b = 0; b <= mask; b++) {
      const c = counts[b];
      counts[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = srcK[i];
      const p = counts[(k >>> shift) & mask]++;
      dstK[p] = k;
      dstI[p] = srcI[i];
    }
    const tk = srcK;
    srcK = dstK;
    dstK = tk;
    const ti = srcI;
    srcI = dstI;
    dstI = ti;
  }
  // three passes: the result is in the scratch array; copy back.
  if (srcI !== order) order.set(srcI.subarray(0, n));
  return n;
}

/** Tile range of a splat: `[x0, x1) × [y0, y1)` in tiles (gsplat's `isect_tiles`). */
function tileRange(splats: Float32Array, g: number, frame: RasterFrame, out: Int32Array): void {
  const o = g * SPLAT_STRIDE;
  const mx = splats[o + SPLAT.MX];
  const my = splats[o + SPLAT.MY];
  const rx = splats[o + SPLAT.RX];
  const ry = splats[o + SPLAT.RY];
  out[0] = clampInt(Math.floor((mx - rx) / TILE), frame.tilesX);
  out[1] = clampInt(Math.ceil((mx + rx) / TILE), frame.tilesX);
  out[2] = clampInt(Math.floor((my - ry) / TILE), frame.tilesY);
  out[3] = clampInt(Math.ceil((my + ry) / TILE), frame.tilesY);
}

function clampInt(v: number, hi: number): number {
  return v < 0 ? 0 : Math.min(v, hi);
}

/** Per tile row, the splats overlapping it in depth order: row `r` is `items[starts[r] .. starts[r + 1])`, positions in the gathered splats. */
export interface TileRowBins {
  /** `[tilesY + 1]` offsets into `items`. */
  starts: Int32Array;
  /** Splat indices. */
  items: Int32Array;
}

const range4 = new Int32Array(4);

/**
 * Copies splats `order[start .. end)` to positions `start .. end` of `out`: the depth-sorted splats
 * laid out contiguously, so binning and compositing read memory in order.
 */
export function gatherSplats(splats: Float32Array, order: Int32Array, start: number, end: number, out: Float32Array): void {
  for (let i = start; i < end; i++) {
    const o = order[i] * SPLAT_STRIDE;
    const d = i * SPLAT_STRIDE;
    for (let k = 0; k < SPLAT_STRIDE; k++) out[d + k] = splats[o + k];
  }
}

/**
 * Buckets the depth-sorted, gathered splats `sorted[0 .. n)` (see {@link gatherSplats}) by the
 * tile rows their boxes overlap; row items are positions in `sorted`, in depth order. `reuse`
 * (e.g. a previous result) is grown only when too small; `allocate` makes the arrays (e.g. on a
 * SharedArrayBuffer).
 */
export function binTileRows(
  sorted: Float32Array,
  n: number,
  frame: RasterFrame,
  reuse?: TileRowBins,
  allocate: (length: number) => Int32Array = (l) => new Int32Array(l),
): TileRowBins {
  const rows = frame.tilesY;
  const starts = reuse && reuse.starts.length >= rows + 1 ? reuse.starts : allocate(rows + 1);
  starts.fill(0, 0, rows + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    tileRange(sorted, i, frame, range4);
    if (range4[0] >= range4[1]) continue;
    for (let r = range4[2]; r < range4[3]; r++) starts[r + 1]++;
    total += Math.max(0, range4[3] - range4[2]);
  }
  for (let r = 0; r < rows; r++) starts[r + 1] += starts[r];
  const items = reuse && reuse.items.length >= total ? reuse.items : allocate(Math.max(total, Math.ceil((reuse?.items.length ?? 0) * 1.25)));
  const fill = new Int32Array(rows);
  for (let r = 0; r < rows; r++) fill[r] = starts[r];
  for (let i = 0; i < n; i++) {
    tileRange(sorted, i, frame, range4);
    if (range4[0] >= range4[1]) continue;
    for (let r = range4[2]; r < range4[3]; r++) items[fill[r]++] = i;
  }
  return { starts, items };
}

/** Per-thread buffers of {@link rasterizeTileRow}; grown as needed. */
export interface RowScratch {
  /** Transmittance per pixel of the row; negated once the pixel is done. */
  trans: Float64Array;
  acc: Float64Array;
  tileLeft: Int32Array;
}

/** Fresh {@link RowScratch}. */
export function createRowScratch(): RowScratch {
  return { trans: new Float64Array(0), acc: new Float64Array(0), tileLeft: new Int32Array(0) };
}

/** Output planes of a render (full image; a tile row writes its own 16 rows). */
export interface RasterPlanes {
  rgb: Float32Array;
  alpha: Float32Array;
  depth: Float32Array | null;
}

/**
 * Composites tile row `ty` (image rows `16·ty .. 16·ty + 15`) front to back from the row's splats
 * `items[start .. end)` (positions in `sorted`, depth order) and writes its pixels of `out`: gsplat's
 * `rasterize_to_pixels` per pixel — sigma = ½(a dx² + c dy²) + b dx dy with dx = mean − (x + ½);
 * alpha = min(0.999, opacity·exp(−sigma)) (exp from a table, relative error ≤ 5e-7); skipped when sigma < 0 or alpha < 1/255; the pixel
 * stops (exclusive) once T·(1 − alpha) ≤ 1e-4; colour += alpha·T·rgb, depth += alpha·T·z; then
 * rgb + T·background, alpha = 1 − T, depth / max(alpha, 1e-10).
 *
 * Each splat visits only the pixels of its tiles inside its box where sigma ≤ ln(255·opacity)
 * (the ellipse outside which alpha < 1/255, so skipping the rest changes nothing), and splats
 * whose tiles are all done are skipped.
 */
export function rasterizeTileRow(
  sorted: Float32Array,
  items: Int32Array,
  start: number,
  end: number,
  frame: RasterFrame,
  ty: number,
  out: RasterPlanes,
  scratch: RowScratch,
): void {
  const W = frame.width;
  const y0 = ty * TILE;
  const y1 = Math.min(frame.height, y0 + TILE);
  const rowsHere = y1 - y0;
  const npix = rowsHere * W;
  const tilesX = frame.tilesX;
  if (scratch.trans.length < npix) {
    scratch.trans = new Float64Array(TILE * W);
    scratch.acc = new Float64Array(TILE * W * 4);
  }
  if (scratch.tileLeft.length < tilesX) scratch.tileLeft = new Int32Array(tilesX);
  const { trans, acc, tileLeft } = scratch;
  trans.fill(1, 0, npix);
  acc.fill(0, 0, 4 * npix);
  for (let tx = 0; tx < tilesX; tx++) tileLeft[tx] = rowsHere * (Math.min(W, (tx + 1) * TILE) - tx * TILE);
  let tilesLeft = tilesX;

  const alphaThreshold = GSPLAT_CONSTANTS.alphaThreshold;
  const maxAlpha = GSPLAT_CONSTANTS.maxAlpha;
  const tMin = GSPLAT_CONSTANTS.transmittanceMin;

  for (let k = start; k < end && tilesLeft > 0; k++) {
    const o = items[k] * SPLAT_STRIDE;
    const mx = sorted[o + SPLAT.MX];
    const my = sorted[o + SPLAT.MY];
    const rx = sorted[o + SPLAT.RX];
    const ry = sorted[o + SPLAT.RY];
    // gsplat's tile range in x (y: this row is in range by construction)
    const tx0 = clampInt(Math.floor((mx - rx) / TILE), tilesX);
    const tx1 = clampInt(Math.ceil((mx + rx) / TILE), tilesX);
    let live = false;
    for (let tx = tx0; tx < tx1; tx++) {
      if (tileLeft[tx] !== 0) {
        live = true;
        break;
      }
    }
    if (!live) continue;
    // pixels of those tiles whose centre is inside the box: |x + ½ − mx| ≤ rx, |y + ½ − my| ≤ ry
    let xa = Math.ceil(mx - rx - 0.5);
    let xb = Math.floor(mx + rx - 0.5);
    let ya = Math.ceil(my - ry - 0.5);
    let yb = Math.floor(my + ry - 0.5);
    if (xa < tx0 * TILE) xa = tx0 * TILE;
    const xMax = Math.min(W, tx1 * TILE) - 1;
    if (xb > xMax) xb = xMax;
    if (ya < y0) ya = y0;
    if (yb > y1 - 1) yb = y1 - 1;
    if (xa > xb || ya > yb) continue;
    const ca = sorted[o + SPLAT.CA];
    const cb = sorted[o + SPLAT.CB];
    const cc = sorted[o + SPLAT.CC];
    const op = sorted[o + SPLAT.OPACITY];
    const sigmaMax = sorted[o + SPLAT.SIGMA_MAX];
    const cr = sorted[o + SPLAT.R];
    const cg = sorted[o + SPLAT.G];
    const cbl = sorted[o + SPLAT.B];
    const cz = sorted[o + SPLAT.DEPTH];
    const ica = 1 / ca;
    for (let y = ya; y <= yb; y++) {
      const dy = my - (y + 0.5);
      // The row's pixels with sigma ≤ sigmaMax (alpha ≥ 1/255): ½a·dx² + b·dy·dx + ½c·dy² ≤ L,
      // widened by 1e-3 px against rounding (the exact test below decides).
      const bdy = cb * dy;
      const disc = bdy * bdy - ca * (cc * dy * dy - 2 * sigmaMax);
      if (!(disc >= 0)) continue;
      const root = Math.sqrt(disc) * ica;
      const centre = mx - 0.5 + bdy * ica; // x where dx = −b·dy/a
      let sx0 = Math.ceil(centre - root - 1e-3);
      let sx1 = Math.floor(centre + root + 1e-3);
      if (sx0 < xa) sx0 = xa;
      if (sx1 > xb) sx1 = xb;
      const hy = 0.5 * cc * dy * dy;
      const row = (y - y0) * W;
      for (let x = sx0; x <= sx1; x++) {
        const i = row + x;
        const t = trans[i];
        if (t < 0) continue; // done (transmittance stored negated)
        const dx = mx - (x + 0.5);
        const sigma = 0.5 * ca * dx * dx + hy + bdy * dx;
        if (sigma < 0 || sigma > sigmaMax) continue;
        let e: number;
        if (sigma < EXP_MAX) {
          const u = sigma * EXP_STEPS;
          const j = u | 0;
          const e0 = EXP_TABLE[j];
          e = e0 + (u - j) * (EXP_TABLE[j + 1] - e0);
        } else {
          e = Math.exp(-sigma);
        }
        let alpha = op * e;
        if (alpha > maxAlpha) alpha = maxAlpha;
        if (alpha < alphaThreshold) continue;
        const nt = t * (1 - alpha);
        if (nt <= tMin) {
          trans[i] = -t;
          const tx = (x / TILE) | 0;
          if (--tileLeft[tx] === 0) tilesLeft--;
          continue;
        }
        const w = alpha * t;
        const a = 4 * i;
        acc[a] += w * cr;
        acc[a + 1] += w * cg;
        acc[a + 2] += w * cbl;
        acc[a + 3] += w * cz;
        trans[i] = nt;
      }
    }
  }

  const [bgR, bgG, bgB] = frame.background;
  const floor = GSPLAT_CONSTANTS.depthAlphaFloor;
  const { rgb, alpha, depth } = out;
  for (let i = 0, p = y0 * W; i < npix; i++, p++) {
    const t = Math.abs(trans[i]);
    const a = 4 * i;
    rgb[3 * p] = acc[a] + t * bgR;
    rgb[3 * p + 1] = acc[a + 1] + t * bgG;
    rgb[3 * p + 2] = acc[a + 2] + t * bgB;
    const al = 1 - t;
    alpha[p] = al;
    if (depth) depth[p] = acc[a + 3] / Math.max(al, floor);
  }
}
