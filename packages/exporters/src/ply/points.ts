/**
 * *Point-cloud PLY of a {@link Prediction}*: one vertex per kept pixel, in the prediction's world
 * frame with OpenCV axes (x right, y down, z forward), units of the model (metres when
 * `isMetric`).
 *
 * Usage:
 * ```ts
 * const { points, threshold } = await writePly(prediction, sink);               // binary LE
 * await writePly(prediction, sink, { format: 'ascii', keepAll: true, normals: 'camera' });
 * ```
 *
 * Per vertex: `x y z` (float), optional `nx ny nz` (float), `red green blue` (uchar, from
 * `processedImages`), `confidence` (float, when the prediction has `conf`).
 *
 * Points are computed exactly like the reference's GLB exporter
 * (`utils/export/glb.py::_depths_to_world_points_with_colors`, also `worldPointsFromDepthGlb` in
 * core): float64 `inv([w2c; 0 0 0 1]) · [K⁻¹·[u, v, 1]·d; 1]` at integer pixel indices, rounded
 * to float32. There is no centring and no axis change (the GLB's glTF transform is not applied).
 *
 * Kept pixels: depth finite and > 0; the point finite; and, unless `keepAll`, confidence finite
 * and `conf ≥ threshold` with the GLB exporter's rule `threshold = min(max(1.05, P_p), P_90)`
 * (NumPy linear percentiles of the confidence pooled over all views, `p = confPercentile`,
 * default 40, compared in float32). The reference has no plain PLY export (§6); the GLB's rule is
 * used so both files hold the same points.
 *
 * Zero kept points is not an error: the file is a valid PLY with `element vertex 0` (the result
 * says `points: 0`).
 *
 * Normals (`normals: 'camera'`): the unit vector from the point towards the centre of the camera
 * that saw it (camera-facing, so viewers light the side the camera saw). Default: none.
 *
 * Pixels are visited view by view, row by row; two passes (count, then write) keep memory at
 * one image row besides the output chunk, so a million points never need a second full copy.
 */
import { Da3Error, invert3, invert4, type Prediction, quantileLinear, type Sink } from '@da3js/core';
import { type ChunkWriter, withSink } from '../writer.js';
import { formatPlyFloat32, type PlyPropertyInfo, plyHeader } from './format.js';
import { checkPredictionDims } from '../prediction-dims.js';

/** Options of {@link writePly}. */
export interface WritePlyOptions {
  /** `binary` (default): `binary_little_endian`; `ascii`: text, float32 values in their shortest exact form. */
  format?: 'binary' | 'ascii';
  /** Lower percentile of the confidence rule (0–100, default 40; the Gradio app uses 10). */
  confPercentile?: number;
  /** An explicit confidence threshold instead of the percentile rule (`conf ≥ confThreshold`). */
  confThreshold?: number;
  /** Keep every pixel with a valid depth, whatever its confidence (default false). */
  keepAll?: boolean;
  /** Write the `confidence` property (default: true when the prediction has `conf`). */
  confidence?: boolean;
  /** `'camera'`: unit normals towards the camera that saw the point; `'none'` (default). */
  normals?: 'none' | 'camera';
}

/** What {@link writePly} reports. */
export interface WritePlyResult {
  /** Vertices written. */
  readonly points: number;
  /** Bytes handed to the sink. */
  readonly bytes: number;
  /** The confidence threshold applied (float32), or null when none was (no conf, or `keepAll`). */
  readonly threshold: number | null;
}

/** Options of {@link plyConfidenceThreshold}. */
export interface ConfidenceThresholdOptions {
  /** Lower percentile p (default 40). */
  percentile?: number;
  /** Upper percentile (default 90): the threshold never exceeds it. */
  upperPercentile?: number;
  /** Base threshold (default 1.05). */
  base?: number;
}

function checkPercentile(where: string, name: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 100)) throw new Da3Error('BAD_VALUE', `${where}: ${name} must be in [0, 100], got ${p}`);
}

/**
 * The reference GLB exporter's confidence threshold `min(max(base, P_p), P_upper)` over every
 * finite value of `conf` (pooled over views), NumPy `percentile` (linear), each percentile
 * rounded to float32 like NumPy's float32 result. Returns NaN when `conf` has no finite value.
 * @throws Da3Error `BAD_VALUE` for a percentile outside [0, 100] or a non-finite base.
 */
export function plyConfidenceThreshold(conf: Float32Array, options: ConfidenceThresholdOptions = {}): number {
  const where = 'plyConfidenceThreshold';
  const p = options.percentile ?? 40;
  const up = options.upperPercentile ?? 90;
  const base = options.base ?? 1.05;
  checkPercentile(where, 'percentile', p);
  checkPercentile(where, 'upperPercentile', up);
  if (!Number.isFinite(base)) throw new Da3Error('BAD_VALUE', `${where}: base must be finite, got ${base}`);
  let finite = 0;
  for (let i = 0; i < conf.length; i++) if (Number.isFinite(conf[i])) finite++;
  if (finite === 0) return Number.NaN;
  let values: Float32Array = conf;
  if (finite !== conf.length) {
    values = new Float32Array(finite);
    let k = 0;
    for (let i = 0; i < conf.length; i++) if (Number.isFinite(conf[i])) values[k++] = conf[i];
  }
  const lower = Math.fround(quantileLinear(values, p / 100, { precision: 'float64' }));
  const upper = Math.fround(quantileLinear(values, up / 100, { precision: 'float64' }));
  return Math.min(Math.max(base, lower), upper);
}

interface ViewCamera {
  kinv: Float64Array;
  c2w: Float64Array;
}

function viewCameras(prediction: Prediction, where: string): ViewCamera[] {
  const { views, intrinsics, extrinsics } = prediction;
  if (!intrinsics) throw new Da3Error('BAD_VALUE', `${where}: the prediction has no intrinsics (needed to unproject depth)`);
  if (intrinsics.length !== 9 * views) throw new Da3Error('BAD_SHAPE', `${where}: intrinsics must be [${views}, 3, 3], got ${intrinsics.length} values`);
  if (!extrinsics && views !== 1) throw new Da3Error('BAD_VALUE', `${where}: ${views} views but no extrinsics (only a single view may omit them)`);
  if (extrinsics && extrinsics.length !== 12 * views) throw new Da3Error('BAD_SHAPE', `${where}: extrinsics must be [${views}, 3, 4], got ${extrinsics.length} values`);
  const out: ViewCamera[] = [];
  for (let b = 0; b < views; b++) {
    const kinv = new Float64Array(9);
    const k = intrinsics.slice(9 * b, 9 * b + 9);
    for (let i = 0; i < 9; i++) if (!Number.isFinite(k[i])) throw new Da3Error('NON_FINITE', `${where}: intrinsics[${b}] holds ${k[i]}`);
    if (!invert3(kinv, k)) throw new Da3Error('DEGENERATE', `${where}: intrinsics of view ${b} are singular`);
    const e = new Float64Array(16);
    e[15] = 1;
    if (extrinsics) for (let i = 0; i < 12; i++) e[i] = extrinsics[12 * b + i];
    else e[0] = e[5] = e[10] = 1;
    for (let i = 0; i < 12; i++) if (!Number.isFinite(e[i])) throw new Da3Error('NON_FINITE', `${where}: extrinsics[${b}] holds ${e[i]}`);
    const c2w = new Float64Array(16);
    if (!invert4(c2w, e)) throw new Da3Error('DEGENERATE', `${where}: extrinsics of view ${b} are singular`);
    out.push({ kinv, c2w });
  }
  return out;
}

function checkPrediction(prediction: Prediction, where: string): void {
  if (!prediction || typeof prediction !== 'object') throw new Da3Error('BAD_VALUE', `${where}: expected a Prediction, got ${prediction}`);
  checkPredictionDims(where, prediction);
  const { views: N, height: H, width: W } = prediction;
  const px = N * H * W;
  if (!(prediction.depth instanceof Float32Array) || prediction.depth.length !== px) {
    throw new Da3Error('BAD_SHAPE', `${where}: depth must be a Float32Array [${N}, ${H}, ${W}] = ${px} values, got ${prediction.depth?.length}`);
  }
  if (!(prediction.processedImages instanceof Uint8Array) || prediction.processedImages.length !== px * 3) {
    throw new Da3Error('BAD_SHAPE', `${where}: processedImages must be a Uint8Array [${N}, ${H}, ${W}, 3] = ${px * 3} values, got ${prediction.processedImages?.length}`);
  }
  if (prediction.conf && (!(prediction.conf instanceof Float32Array) || prediction.conf.length !== px)) {
    throw new Da3Error('BAD_SHAPE', `${where}: conf must be a Float32Array [${N}, ${H}, ${W}] = ${px} values, got ${prediction.conf.length}`);
  }
}

/** Describes the world frame for the header: which view is the identity camera, if any. */
function frameComment(prediction: Prediction): string {
  const axes = 'frame: OpenCV world (x right, y down, z forward)';
  const e = prediction.extrinsics;
  if (!e) return `${axes}, the camera of the single view`;
  const isIdentity = (b: number) => {
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) if (Math.abs(e[12 * b + 4 * r + c] - (r === c ? 1 : 0)) > 1e-6) return false;
    return true;
  };
  if (isIdentity(0)) return `${axes}, first camera = reference`;
  for (let b = 1; b < prediction.views; b++) if (isIdentity(b)) return `${axes}, camera of view ${b} = reference`;
  return `${axes}, world frame of the extrinsics (no view has the identity pose)`;
}

/**
 * Writes the point cloud of `prediction` as PLY into `sink` (closed on success, aborted on
 * error). See the module doc for the frame, the kept pixels and the vertex layout.
 * @throws Da3Error `BAD_SHAPE` (array sizes), `BAD_VALUE` (options, no intrinsics, several views
 *   without extrinsics), `NON_FINITE` (cameras), `DEGENERATE` (singular K or pose)
 */
export async function writePly(prediction: Prediction, sink: Sink, options: WritePlyOptions = {}): Promise<WritePlyResult> {
  const where = 'writePly';
  return withSink(sink, async (out) => {
    checkPrediction(prediction, where);
    const format = options.format ?? 'binary';
    if (format !== 'binary' && format !== 'ascii') throw new Da3Error('BAD_VALUE', `${where}: format must be 'binary' or 'ascii', got ${JSON.stringify(format)}`);
    const normals = options.normals ?? 'none';
    if (normals !== 'none' && normals !== 'camera') throw new Da3Error('BAD_VALUE', `${where}: normals must be 'none' or 'camera', got ${JSON.stringify(normals)}`);
    const conf = prediction.conf;
    const writeConf = options.confidence ?? conf !== null;
    if (writeConf && !conf) throw new Da3Error('BAD_VALUE', `${where}: confidence: true but the prediction has no conf`);
    if (options.confThreshold !== undefined && !Number.isFinite(options.confThreshold)) {
      throw new Da3Error('BAD_VALUE', `${where}: confThreshold must be finite, got ${options.confThreshold}`);
    }
    const cams = viewCameras(prediction, where);

    let threshold: number | null = null;
    let ruleText = 'no confidence filter';
    if (conf && !options.keepAll) {
      if (options.confThreshold !== undefined) {
        threshold = Math.fround(options.confThreshold);
        ruleText = `confidence >= ${formatPlyFloat32(threshold)} (given)`;
      } else {
        const p = options.confPercentile ?? 40;
        checkPercentile(where, 'confPercentile', p);
        const t = plyConfidenceThreshold(conf, { percentile: p });
        threshold = Number.isNaN(t) ? null : Math.fround(t);
        ruleText =
          threshold === null ? 'no finite confidence: every point dropped' : `confidence >= ${formatPlyFloat32(threshold)} = min(max(1.05, P${p}), P90) of conf`;
      }
    }
    // Every point needs a finite confidence once filtering is on.
    const dropAll = conf !== null && !options.keepAll && threshold === null;

    const { views: N, height: H, width: W, depth } = prediction;
    const xyz = new Float32Array(W * 3);
    const keep = new Uint8Array(W);
    /** Fills xyz/keep for row v of view b; returns how many are kept. */
    const row = (b: number, v: number): number => {
      const { kinv, c2w: c } = cams[b];
      const base = (b * H + v) * W;
      let kept = 0;
      for (let u = 0; u < W; u++) {
        const d = depth[base + u];
        keep[u] = 0;
        if (!(d > 0 && d < Number.POSITIVE_INFINITY)) continue;
        if (conf && !options.keepAll) {
          const cf = conf[base + u];
          if (dropAll || !(cf >= threshold!) || !Number.isFinite(cf)) continue;
        }
        const xc = (kinv[0] * u + kinv[1] * v + kinv[2]) * d;
        const yc = (kinv[3] * u + kinv[4] * v + kinv[5]) * d;
        const zc = (kinv[6] * u + kinv[7] * v + kinv[8]) * d;
        const x = Math.fround(c[0] * xc + c[1] * yc + c[2] * zc + c[3]);
        const y = Math.fround(c[4] * xc + c[5] * yc + c[6] * zc + c[7]);
        const z = Math.fround(c[8] * xc + c[9] * yc + c[10] * zc + c[11]);
        if (!(Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z))) continue;
        xyz[3 * u] = x;
        xyz[3 * u + 1] = y;
        xyz[3 * u + 2] = z;
        keep[u] = 1;
        kept++;
      }
      return kept;
    };

    let count = 0;
    for (let b = 0; b < N; b++) for (let v = 0; v < H; v++) count += row(b, v);

    const properties: PlyPropertyInfo[] = [
      { name: 'x', type: 'float' },
      { name: 'y', type: 'float' },
      { name: 'z', type: 'float' },
    ];
    if (normals === 'camera') properties.push({ name: 'nx', type: 'float' }, { name: 'ny', type: 'float' }, { name: 'nz', type: 'float' });
    properties.push({ name: 'red', type: 'uchar' }, { name: 'green', type: 'uchar' }, { name: 'blue', type: 'uchar' });
    if (writeConf) properties.push({ name: 'confidence', type: 'float' });
    const units = prediction.isMetric ? 'metres' : 'model units (up to scale)';
    out.text(
      plyHeader({
        format: format === 'ascii' ? 'ascii' : 'binary_little_endian',
        comments: [`da3js point cloud, ${frameComment(prediction)}`, `units: ${units}`, ruleText],
        elements: [{ name: 'vertex', count, properties }],
      }),
    );

    const img = prediction.processedImages;
    const normal = new Float32Array(3);
    const setNormal = (b: number, u: number): void => {
      const c = cams[b].c2w;
      const dx = c[3] - xyz[3 * u];
      const dy = c[7] - xyz[3 * u + 1];
      const dz = c[11] - xyz[3 * u + 2];
      const n = Math.hypot(dx, dy, dz);
      normal[0] = n > 0 ? dx / n : 0;
      normal[1] = n > 0 ? dy / n : 0;
      normal[2] = n > 0 ? dz / n : 0;
    };
    let written = 0;
    for (let b = 0; b < N; b++) {
      for (let v = 0; v < H; v++) {
        if (row(b, v) === 0) continue;
        const base = (b * H + v) * W;
        if (format === 'binary') writeBinaryRow(out, base);
        else writeAsciiRow(out, b, base);
        await out.flushIfFull();
      }
    }
    if (written !== count) throw new Da3Error('BAD_VALUE', `${where}: internal: counted ${count} points, wrote ${written}`);
    return { points: count, bytes: out.written, threshold };

    function writeBinaryRow(o: ChunkWriter, base: number): void {
      const b = Math.floor(base / (H * W));
      for (let u = 0; u < W; u++) {
        if (!keep[u]) continue;
        o.f32(xyz[3 * u]);
        o.f32(xyz[3 * u + 1]);
        o.f32(xyz[3 * u + 2]);
        if (normals === 'camera') {
          setNormal(b, u);
          o.f32(normal[0]);
          o.f32(normal[1]);
          o.f32(normal[2]);
        }
        const p = 3 * (base + u);
        o.u8(img[p]);
        o.u8(img[p + 1]);
        o.u8(img[p + 2]);
        if (writeConf) o.f32(conf![base + u]);
        written++;
      }
    }

    function writeAsciiRow(o: ChunkWriter, b: number, base: number): void {
      let s = '';
      for (let u = 0; u < W; u++) {
        if (!keep[u]) continue;
        s += `${formatPlyFloat32(xyz[3 * u])} ${formatPlyFloat32(xyz[3 * u + 1])} ${formatPlyFloat32(xyz[3 * u + 2])}`;
        if (normals === 'camera') {
          setNormal(b, u);
          s += ` ${formatPlyFloat32(normal[0])} ${formatPlyFloat32(normal[1])} ${formatPlyFloat32(normal[2])}`;
        }
        const p = 3 * (base + u);
        s += ` ${img[p]} ${img[p + 1]} ${img[p + 2]}`;
        if (writeConf) s += ` ${formatPlyFloat32(conf![base + u])}`;
        s += '\n';
        written++;
      }
      o.text(s);
    }
  });
}
