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

/** Reusable buffers of {@link radixSortPairs}; grown as needed. */
export interface SortScratch {
  keys2: Uint32Array;
  ids2: Int32Array;
  counts: Uint32Array;
}

/** Fresh {@link SortScratch} (empty; grown on first use). */
export function createSortScratch(): SortScratch {
  return { keys2: new Uint32Array(0), ids2: new Int32Array(0), counts: new Uint32Array(2048) };
}

/**
 * Stable ascending LSD radix sort (11/11/10 bits) of `keys[0 .. n)`, moving `ids` along; the
 * result is left in `keys` / `ids`. Equal keys keep their order (like gsplat's CUB radix sort).
 */
export function radixSortPairs(keys: Uint32Array, ids: Int32Array, n: number, scratch: SortScratch): void {
  if (n < 2) return;
  if (scratch.keys2.length < n) {
    const size = Math.max(n, Math.ceil(scratch.keys2.length * 1.5));
    scratch.keys2 = new Uint32Array(size);
    scratch.ids2 = new Int32Array(size);
  }
  let srcK = keys;
  let srcI = ids;
  let dstK = scratch.keys2;
  let dstI = scratch.ids2;
  const counts = scratch.counts;
  for (let pass = 0; pass < 3; pass++) {
    const shift = 11 * pass;
    const mask = pass === 2 ? 1023 : 2047;
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
  // three passes: the result is in the scratch arrays; copy back.
  keys.set(srcK.subarray(0, n));
  ids.set(srcI.subarray(0, n));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The sort key of a depth: its float32 bit pattern as an unsigned integer (gsplat's `isect_ids` low word). */
export function depthKey(depth: number): number {
  f32[0] = depth;
  return u32[0];
}

let rowCursor = new Int32Array(0);

function clampInt(v: number, hi: number): number {
  return v < 0 ? 0 : Math.min(v, hi);
}

/**
 * The visible splats of one slice `[start, end)` bucketed by the tile rows their boxes overlap
 * (gsplat's `isect_tiles` rows), in index order: row `r` is `items[starts[r] .. starts[r + 1])`.
 */
export interface SliceBins {
  /** `[tilesY + 1]` offsets into `items`. */
  starts: Int32Array;
  /** Splat indices. */
  items: Int32Array;
}

/**
 * Bins splats `[start, end)` (projected, {@link SPLAT} layout) by tile row and writes their depth
 * sort keys (`keys[g]`, {@link depthKey}). A frame's slices, concatenated in slice order, list
 * each row's splats in index order, so a stable sort by key gives gsplat's order (ties by index).
 * `reuse` (e.g. the slice's previous result) is kept when big enough; `allocate` makes new arrays
 * (e.g. on a SharedArrayBuffer).
 */
export function binSplats(
  splats: Float32Array,
  frame: RasterFrame,
  start: number,
  end: number,
  keys: Uint32Array,
  reuse?: SliceBins | null,
  allocate: (length: number) => Int32Array = (l) => new Int32Array(l),
): SliceBins {
  const rows = frame.tilesY;
  const tilesX = frame.tilesX;
  const starts = reuse && reuse.starts.length >= rows + 1 ? reuse.starts : allocate(rows + 1);
  starts.fill(0, 0, rows + 1);
  let total = 0;
  for (let g = start; g < end; g++) {
    const o = g * SPLAT_STRIDE;
    const rx = splats[o + SPLAT.RX];
    if (!(rx > 0)) continue;
    const mx = splats[o + SPLAT.MX];
    if (clampInt(Math.floor((mx - rx) / TILE), tilesX) >= clampInt(Math.ceil((mx + rx) / TILE), tilesX)) continue;
    const my = splats[o + SPLAT.MY];
    const ry = splats[o + SPLAT.RY];
    const r0 = clampInt(Math.floor((my - ry) / TILE), rows);
    const r1 = clampInt(Math.ceil((my + ry) / TILE), rows);
    for (let r = r0; r < r1; r++) starts[r + 1]++;
    if (r1 > r0) total += r1 - r0;
    f32[0] = splats[o + SPLAT.DEPTH];
    keys[g] = u32[0];
  }
  for (let r = 0; r < rows; r++) starts[r + 1] += starts[r];
  const items = reuse && reuse.items.length >= total ? reuse.items : allocate(Math.max(total, Math.ceil((reuse?.items.length ?? 0) * 1.25), 16));
  // second pass: write each splat into its rows
  const cursor = rowCursor.length >= rows ? rowCursor : (rowCursor = new Int32Array(rows));
  for (let r = 0; r < rows; r++) cursor[r] = starts[r];
  for (let g = start; g < end; g++) {
    const o = g * SPLAT_STRIDE;
    const rx = splats[o + SPLAT.RX];
    if (!(rx > 0)) continue;
    const mx = splats[o + SPLAT.MX];
    if (clampInt(Math.floor((mx - rx) / TILE), tilesX) >= clampInt(Math.ceil((mx + rx) / TILE), tilesX)) continue;
    const my = splats[o + SPLAT.MY];
    const ry = splats[o + SPLAT.RY];
    const r1 = clampInt(Math.ceil((my + ry) / TILE), rows);
    for (let r = clampInt(Math.floor((my - ry) / TILE), rows); r < r1; r++) items[cursor[r]++] = g;
  }
  return { starts, items };
}

/** Per-thread buffers of {@link rasterizeTileRow}; grown as needed. */
export interface RowScratch {
  /** Transmittance per pixel of the row; negated once the pixel is done. */
  trans: Float64Array;
  acc: Float64Array;
  tileLeft: Int32Array;
  /** The row's splat indices and their depth keys. */
  ids: Int32Array;
  keys: Uint32Array;
  sort: SortScratch;
}

/** Fresh {@link RowScratch}. */
export function createRowScratch(): RowScratch {
  return {
    trans: new Float64Array(0),
    acc: new Float64Array(0),
    tileLeft: new Int32Array(0),
    ids: new Int32Array(0),
    keys: new Uint32Array(0),
    sort: createSortScratch(),
  };
}

/** Output planes of a render (full image; a tile row writes its own 16 rows). */
export interface RasterPlanes {
  rgb: Float32Array;
  alpha: Float32Array;
  depth: Float32Array | null;
}

/**
 * Renders tile row `ty` (image rows `16·ty .. 16·ty + 15`) into `out`: collects the row's
 * splats from the frame's slices (in slice order), sorts them by depth key (stable: ties by
 * index) and composites them front to back ({@link compositeTileRow}).
 */
export function rasterizeTileRow(
  splats: Float32Array,
  keys: Uint32Array,
  slices: readonly SliceBins[],
  frame: RasterFrame,
  ty: number,
  out: RasterPlanes,
  scratch: RowScratch,
): void {
  let m = 0;
  for (const b of slices) m += b.starts[ty + 1] - b.starts[ty];
  if (scratch.ids.length < m) {
    const size = Math.max(m, Math.ceil(scratch.ids.length * 1.5));
    scratch.ids = new Int32Array(size);
    scratch.keys = new Uint32Array(size);
  }
  const ids = scratch.ids;
  const rowKeys = scratch.keys;
  let k = 0;
  for (const b of slices) {
    const items = b.items;
    for (let j = b.starts[ty], e = b.starts[ty + 1]; j < e; j++) {
      const g = items[j];
      ids[k] = g;
      rowKeys[k++] = keys[g];
    }
  }
  radixSortPairs(rowKeys, ids, m, scratch.sort);
  compositeTileRow(splats, ids, m, frame, ty, out, scratch);
}

/**
 * Composites tile row `ty` (image rows `16·ty .. 16·ty + 15`) front to back from the splats
 * `ids[0 .. m)` of `splats` (those overlapping the row, in depth order) and writes its pixels of
 * `out`. Per pixel this is gsplat's `rasterize_to_pixels`: sigma = ½(a dx² + c dy²) + b dx dy
 * with dx = mean − (x + ½); alpha = min(0.999, opacity·exp(−sigma)) (exp from a table, relative
 * error ≤ 5e-7); skipped when sigma < 0 or alpha < 1/255; the pixel stops (exclusive) once
 * T·(1 − alpha) ≤ 1e-4; colour += alpha·T·rgb, depth += alpha·T·z; then rgb + T·background,
 * alpha = 1 − T, depth / max(alpha, 1e-10).
 *
 * Each splat visits only the pixels of its tiles inside its box where sigma ≤ ln(255·opacity)
 * (the ellipse outside which alpha < 1/255, so skipping the rest changes nothing), and splats
 * whose tiles are all done are skipped.
 */
export function compositeTileRow(splats: Float32Array, ids: Int32Array, m: number, frame: RasterFrame, ty: number, out: RasterPlanes, scratch: RowScratch): void {
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
  const trans = scratch.trans;
  const acc = scratch.acc;
  const tileLeft = scratch.tileLeft;
  // every frame field is read here, not after the loop (a map check there deopts each call)
  const bgR = frame.background[0];
  const bgG = frame.background[1];
  const bgB = frame.background[2];
  trans.fill(1, 0, npix);
  acc.fill(0, 0, 4 * npix);
  for (let tx = 0; tx < tilesX; tx++) tileLeft[tx] = rowsHere * (Math.min(W, (tx + 1) * TILE) - tx * TILE);
  let tilesLeft = tilesX;

  const alphaThreshold = GSPLAT_CONSTANTS.alphaThreshold;
  const maxAlpha = GSPLAT_CONSTANTS.maxAlpha;
  const tMin = GSPLAT_CONSTANTS.transmittanceMin;

  for (let k = 0; k < m && tilesLeft > 0; k++) {
    const o = ids[k] * SPLAT_STRIDE;
    const mx = splats[o + SPLAT.MX];
    const my = splats[o + SPLAT.MY];
    const rx = splats[o + SPLAT.RX];
    const ry = splats[o + SPLAT.RY];
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
    const ca = splats[o + SPLAT.CA];
    const cb = splats[o + SPLAT.CB];
    const cc = splats[o + SPLAT.CC];
    const op = splats[o + SPLAT.OPACITY];
    const sigmaMax = splats[o + SPLAT.SIGMA_MAX];
    const cr = splats[o + SPLAT.R];
    const cg = splats[o + SPLAT.G];
    const cbl = splats[o + SPLAT.B];
    const cz = splats[o + SPLAT.DEPTH];
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

  finishTileRow(trans, acc, npix, y0 * W, bgR, bgG, bgB, out);
}

/** Writes a composited row's pixels: rgb + T·background, alpha = 1 − T, depth / max(alpha, 1e-10). */
function finishTileRow(trans: Float64Array, acc: Float64Array, npix: number, first: number, bgR: number, bgG: number, bgB: number, out: RasterPlanes): void {
  const floor = GSPLAT_CONSTANTS.depthAlphaFloor;
  const rgb = out.rgb;
  const alpha = out.alpha;
  const depth = out.depth;
  for (let i = 0, p = first; i < npix; i++, p++) {
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
