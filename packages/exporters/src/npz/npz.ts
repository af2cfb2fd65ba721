/**
 * *`.npz` archives (a ZIP of `<key>.npy` files, NumPy's `np.savez` / `np.savez_compressed`) and
 * the reference's `npz` / `mini_npz` exports of a {@link Prediction}.*
 *
 * Usage:
 * ```ts
 * await writePredictionNpz(prediction, sink, { mini: true });     // exports/mini_npz/results.npz
 * const arrays = readNpz(bytes);                                   // { depth: { dtype, shape, data }, … }
 * await writeNpz({ depth: { dtype: 'float32', shape: [n, h, w], data } }, sink);
 * ```
 *
 * References: `np.savez_compressed` (numpy/lib/npyio.py), the reference's
 * `utils/export/npz.py` (`export_to_npz`, `export_to_mini_npz`).
 */
import { Da3Error, type Prediction, type Sink } from '@da3js/core';
import { withSink } from '../writer.js';
import { type NpyArray, decodeNpy, npyDataBytes, npyHeader, validateNpyArray } from './npy.js';
import { type ZipWriteOptions, readZipDirectory, readZipEntry, writeZip } from './zip.js';
import { checkPredictionDims } from '../prediction-dims.js';

/** Options of {@link writeNpz}: the ZIP container's (deflate like `savez_compressed` by default). */
export type NpzWriteOptions = ZipWriteOptions;

/** What an `.npz` writer reports. */
export interface NpzWriteResult {
  /** Array names in the order written. */
  readonly keys: string[];
  /** Total bytes handed to the sink. */
  readonly bytes: number;
}

/** Named arrays, in insertion order (a record, a Map or `[name, array]` pairs). */
export type NpzEntries = Readonly<Record<string, NpyArray>> | ReadonlyMap<string, NpyArray> | Iterable<readonly [string, NpyArray]>;

function entryList(entries: NpzEntries): [string, NpyArray][] {
  if (entries instanceof Map) return [...entries.entries()];
  if (typeof (entries as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(entries as Iterable<readonly [string, NpyArray]>)].map(([k, v]) => [k, v]);
  return Object.entries(entries as Record<string, NpyArray>);
}

/**
 * Writes named arrays as an `.npz` archive into `sink`: each array becomes `<name>.npy` (NumPy's
 * v1.0 header byte-for-byte, C order), deflated like `np.savez_compressed` unless
 * `compression: 'store'` (`np.savez`). Entries are written in the given order; the sink is
 * closed on success and aborted on any error.
 * @throws Da3Error `EMPTY_INPUT` (no arrays), `BAD_VALUE` (name, dtype/data mismatch, bool not
 *   0/1, options), `BAD_SHAPE` (shape vs data length)
 */
export async function writeNpz(entries: NpzEntries, sink: Sink, options: NpzWriteOptions = {}): Promise<NpzWriteResult> {
  return withSink(sink, async (out) => {
    const list = entryList(entries);
    if (list.length === 0) throw new Da3Error('EMPTY_INPUT', 'writeNpz: no arrays to write');
    for (const [name, array] of list) {
      if (typeof name !== 'string' || name.length === 0) throw new Da3Error('BAD_VALUE', `writeNpz: array names must be non-empty strings, got ${JSON.stringify(name)}`);
      validateNpyArray(`writeNpz: '${name}'`, array);
    }
    const keys = await writeZip(
      out,
      list.map(([name, array]) => ({ name: `${name}.npy`, parts: [npyHeader(array.dtype, array.shape), npyDataBytes(array)] })),
      options,
    );
    return { keys: keys.map((k) => k.slice(0, -4)), bytes: out.written };
  });
}

/**
 * Reads an `.npz` archive (ours or NumPy's, stored or deflated, ZIP64 or not) into named arrays,
 * in archive order. Names are the entry names without `.npy` (like `np.load(...).files`).
 * Strict: every entry must be a valid `.npy` whose data length matches its header.
 * @throws Da3Error `UNKNOWN_FORMAT` (not a ZIP, corrupt entry, CRC mismatch, bad `.npy` header,
 *   unsupported dtype), `BAD_SHAPE` (data length ≠ shape), `BAD_VALUE` (duplicate names)
 */
export function readNpz(bytes: Uint8Array): Record<string, NpyArray> {
  const where = 'readNpz';
  if (!(bytes instanceof Uint8Array)) throw new Da3Error('BAD_VALUE', `${where}: expected a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  const out: Record<string, NpyArray> = {};
  for (const entry of readZipDirectory(bytes, where)) {
    const name = entry.name.endsWith('.npy') ? entry.name.slice(0, -4) : entry.name;
    if (Object.hasOwn(out, name)) throw new Da3Error('BAD_VALUE', `${where}: duplicate array name ${JSON.stringify(name)}`);
    // An own property whatever the name (`out['__proto__'] = …` would set the prototype instead).
    Object.defineProperty(out, name, { value: decodeNpy(readZipEntry(bytes, entry, where), `${where}: '${entry.name}'`), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// NumPy rounding

/** `10**d` as NumPy's `power_of_ten` computes it (exact table up to 1e8, then repeated ×10). */
function powerOfTen(d: number): number {
  if (d < 9) return [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8][d];
  let r = 1e9;
  for (let n = d; n > 9; n--) r *= 10;
  return r;
}

/** `rint`: round to the nearest integer, ties to even (IEEE roundTiesToEven). */
export function rintHalfEven(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.floor(v);
  const diff = v - f;
  if (diff < 0.5) return f === 0 && v < 0 ? -0 : f;
  if (diff > 0.5) return f + 1 === 0 && v < 0 ? -0 : f + 1;
  const r = f % 2 === 0 ? f : f + 1;
  return r === 0 && v < 0 ? -0 : r;
}

/**
 * `np.round(x, decimals)` of a float32 array, bit-exact: NumPy multiplies by `10**decimals` in
 * float32 (the Python-float factor is cast to the array's dtype), rounds half to even (`rint`),
 * and divides by the same factor in float32. NaN and ±∞ pass through; `decimals` ≥ 0.
 * @throws Da3Error `BAD_VALUE` for a negative or non-integer `decimals`
 */
export function roundLikeNumpy(x: Float32Array, decimals: number): Float32Array {
  if (!Number.isInteger(decimals) || decimals < 0) throw new Da3Error('BAD_VALUE', `roundLikeNumpy: decimals must be a non-negative integer, got ${decimals}`);
  const f = Math.fround(powerOfTen(decimals));
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    // float32 product (double product rounded once to float32 is the correctly rounded float32
    // product), exact rint of a float32, then the float32 quotient.
    out[i] = rintHalfEven(Math.fround(x[i] * f)) / f;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// The reference's exports

/** Options of {@link writePredictionNpz}. */
export interface PredictionNpzOptions extends NpzWriteOptions {
  /**
   * `true`: the reference's `mini_npz` (the API default; `depth` rounded to 8 decimals, `conf` 2,
   * `extrinsics`, `intrinsics`). `false`: `npz` (`image` uint8 [N,H,W,3], `depth` rounded to 6,
   * `conf` 2, `extrinsics`, `intrinsics`).
   */
  mini: boolean;
}

function checkLength(where: string, field: string, data: ArrayLike<number> | null, want: number): void {
  if (data && data.length !== want) throw new Da3Error('BAD_SHAPE', `${where}: ${field} has ${data.length} values, expected ${want}`);
}

/**
 * The arrays the reference's `export_to_npz` (`mini: false`) or `export_to_mini_npz`
 * (`mini: true`) saves, in its order, with its dtypes and rounding; only non-null fields
 * (`conf`, `extrinsics`, `intrinsics` are null for mono/metric models). Depth and conf keep
 * NaN/±∞ as NumPy does; camera matrices must be finite (the {@link Prediction} invariant).
 * @throws Da3Error `BAD_SHAPE` (array lengths vs views×H×W), `NON_FINITE` (camera matrices)
 */
export function predictionNpzArrays(prediction: Prediction, options: { mini: boolean }): Map<string, NpyArray> {
  const where = options.mini ? 'mini_npz' : 'npz';
  checkPredictionDims(where, prediction);
  const { views: N, height: H, width: W } = prediction;
  const hw = N * H * W;
  checkLength(where, 'depth', prediction.depth, hw);
  checkLength(where, 'conf', prediction.conf, hw);
  checkLength(where, 'extrinsics', prediction.extrinsics, N * 12);
  checkLength(where, 'intrinsics', prediction.intrinsics, N * 9);
  for (const field of ['extrinsics', 'intrinsics'] as const) {
    const d = prediction[field];
    if (!d) continue;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i])) throw new Da3Error('NON_FINITE', `${where}: ${field}[${i}] is ${d[i]}`);
    }
  }
  const out = new Map<string, NpyArray>();
  if (!options.mini) {
    if (!prediction.processedImages) throw new Da3Error('BAD_VALUE', `${where}: prediction.processedImages is required`);
    checkLength(where, 'processedImages', prediction.processedImages, hw * 3);
    out.set('image', { dtype: 'uint8', shape: [N, H, W, 3], data: prediction.processedImages });
  }
  out.set('depth', { dtype: 'float32', shape: [N, H, W], data: roundLikeNumpy(prediction.depth, options.mini ? 8 : 6) });
  if (prediction.conf) out.set('conf', { dtype: 'float32', shape: [N, H, W], data: roundLikeNumpy(prediction.conf, 2) });
  if (prediction.extrinsics) out.set('extrinsics', { dtype: 'float32', shape: [N, 3, 4], data: prediction.extrinsics });
  if (prediction.intrinsics) out.set('intrinsics', { dtype: 'float32', shape: [N, 3, 3], data: prediction.intrinsics });
  return out;
}

/**
 * Writes the reference's `results.npz` for `npz` (`mini: false`) or `mini_npz` (`mini: true`)
 * into `sink` (see {@link predictionNpzArrays} for the keys). Same bytes for the same prediction
 * (fixed entry dates unless `modified` is given). The sink is aborted on any error.
 * @throws Da3Error `BAD_SHAPE`, `NON_FINITE`, `BAD_VALUE`
 */
export async function writePredictionNpz(prediction: Prediction, sink: Sink, options: PredictionNpzOptions): Promise<NpzWriteResult> {
  let arrays: Map<string, NpyArray>;
  try {
    arrays = predictionNpzArrays(prediction, { mini: !!options?.mini });
  } catch (error) {
    await sink.abort?.(error);
    throw error;
  }
  const { mini: _mini, ...zip } = options;
  return writeNpz(arrays, sink, zip);
}

