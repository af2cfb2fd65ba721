/**
 * *3D-Gaussian-splatting PLY* (the INRIA 3DGS layout), written from and read back to
 * `Gaussians`.
 *
 * Usage:
 * ```ts
 * await writeGaussiansPly(gaussians, sink);                      // 'sh3': 62 floats, 248 B/vertex
 * await writeGaussiansPly(gaussians, sink, { layout: 'sh0' });   // DA3's gs_ply: 17 floats, 68 B
 * const keep = gaussianPruneIndices(prediction);                 // the reference's pruning
 * await writeGaussiansPly(prediction.gaussians!, sink, { indices: keep, layout: 'sh0' });
 * const { gaussians, layout } = readGaussiansPly(bytes);
 * ```
 *
 * One `vertex` element, `binary_little_endian`, every property float32, in this order:
 * - `sh0`: `x y z nx ny nz f_dc_0 f_dc_1 f_dc_2 opacity scale_0 scale_1 scale_2 rot_0 rot_1 rot_2
 *   rot_3` — the reference's `gs_ply` (`gsply_helpers.py::export_ply`, `save_sh_dc_only=True`).
 * - `sh3`: the same with `f_rest_0 … f_rest_44` after `f_dc_2` — what INRIA's `save_ply`, the
 *   Unity importer (248-byte vertices) and most viewers expect.
 *
 * Values (the 3DGS PLY conventions, unlike KHR_gaussian_splatting which stores activated ones):
 * - `x y z`: means, world frame, OpenCV axes (x right, y down, z forward). `nx ny nz`: zeros.
 * - `f_dc_c = harmonics[g, c, 0]`.
 * - `f_rest`: channel-major like INRIA (`features_rest` [N, 15, 3] transposed to [N, 3, 15]):
 *   `f_rest_{c·15 + (k−1)} = harmonics[g, c, k]` for k = 1 … min(K, 16) − 1, zeros after. With
 *   `higherOrder: 'zeros'` every f_rest is 0, the reference's `match_3dgs_mcmc_dev` padding.
 *   DA3 predicts degree 2 (K = 9): f_rest 0–7 (red), 15–22 (green), 30–37 (blue) are filled.
 * - `opacity = log(o / (1 − o))` in float32 steps, as the reference's `inverse_sigmoid` computes
 *   it, so the stored bits match its file. Where the reference writes ±inf (opacity exactly 0 or
 *   1), the logit of the nearest float32 inside (0, 1) is written instead (−103.28, +16.64): the
 *   same opacity after a reader's sigmoid, and a file every reader accepts.
 * - `scale_i = log(scales[g, i])`, as the reference writes it: a negative scale (where the GS
 *   head's depth offset took the Gaussian's depth below 0) gives NaN, 0 gives −inf. Readers
 *   usually drop such Gaussians; filter them first where that matters.
 * - `rot_0..3 = w, x, y, z` (scalar first): the `xyzw` rotation of `Gaussians` reordered, not
 *   normalised (the reference writes its quaternion as is).
 *
 * Rotations: `Gaussians.rotations` are xyzw, and the PLY (like gsplat) is scalar first. The
 * reference's adapter returns `mat_to_quat`'s scalar-last numbers under the name wxyz, and gsplat
 * (which rendered them in training) and its PLY read them scalar first; core's adapter therefore
 * returns that rendered rotation in xyzw order, and `rot_0..3` written from it are the
 * reference's four numbers. `rotationOrder: 'wxyz'` writes four numbers verbatim instead.
 *
 * Streaming: one vertex at a time into the sink's chunks; nothing is copied first.
 */
import { Da3Error, type Gaussians, type Sink } from '@da3js/core';
import { type PlyColumn, type PlyFile, type PlyPropertyInfo, plyElement, plyHeader, plyScalarColumn, readPly } from '../ply/format.js';
import { withSink } from '../writer.js';
import { checkGaussianShapes, checkGaussianValues, checkIndices, checkOrder, type GaussianRotationOrder, rotationWxyz } from './common.js';

/** The two property layouts. */
export type GaussiansPlyLayout = 'sh0' | 'sh3';

/** Options of {@link writeGaussiansPly}. */
export interface WriteGaussiansPlyOptions {
  /** `sh3` (default): 62 floats, INRIA order; `sh0`: 17 floats, DA3's file. */
  layout?: GaussiansPlyLayout;
  /** `sh3` only: `keep` (default) maps the predicted higher-order SH into f_rest; `zeros` pads. */
  higherOrder?: 'keep' | 'zeros';
  /** Write only these Gaussians, in this order (e.g. from {@link gaussianPruneIndices}). */
  indices?: ArrayLike<number>;
  /** Order of `gaussians.rotations`: `xyzw` (default, the core contract) or `wxyz`. */
  rotationOrder?: GaussianRotationOrder;
  /** Header comments (default: one da3js line naming the layout and frame; `[]` for none). */
  comments?: readonly string[];
}

/** What {@link writeGaussiansPly} reports. */
export interface WriteGaussiansPlyResult {
  readonly count: number;
  readonly bytes: number;
  /** Float properties per vertex (17 or 62). */
  readonly properties: number;
  readonly bytesPerVertex: number;
}

/** Property names of a layout, in file order. */
export function gaussiansPlyProperties(layout: GaussiansPlyLayout): string[] {
  const names = ['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2'];
  if (layout === 'sh3') for (let i = 0; i < 45; i++) names.push(`f_rest_${i}`);
  names.push('opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3');
  return names;
}

/** The float32 neighbours of 0 and 1 inside (0, 1): 2^-149 and 1 − 2^-24. */
const OPACITY_MIN = 2 ** -149;
const OPACITY_MAX = 1 - 2 ** -24;

/**
 * The reference's `inverse_sigmoid` on a float32 opacity: `log(o / (1 − o))` with each step
 * rounded to float32; 0 and 1 (where the reference gets ±inf) are taken as their float32
 * neighbours inside (0, 1), giving −103.28 and +16.64.
 */
export function opacityLogit(o: number): number {
  const x = Math.min(Math.max(Math.fround(o), OPACITY_MIN), OPACITY_MAX);
  return Math.fround(Math.log(Math.fround(x / Math.fround(1 - x))));
}

/** `1 / (1 + exp(−x))`, float64. */
export function opacityFromLogit(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Writes `gaussians` as a 3DGS PLY into `sink` (closed on success, aborted on error). See the
 * module doc for the layouts and value transforms. Zero Gaussians give a valid file with
 * `element vertex 0`.
 * @throws Da3Error `BAD_SHAPE` (array sizes), `NON_FINITE` (any value), `BAD_VALUE` (opacity
 *   outside [0, 1], zero quaternion, bad indices or options)
 */
export async function writeGaussiansPly(gaussians: Gaussians, sink: Sink, options: WriteGaussiansPlyOptions = {}): Promise<WriteGaussiansPlyResult> {
  const where = 'writeGaussiansPly';
  return withSink(sink, async (out) => {
    const total = checkGaussianShapes(gaussians, where);
    const layout = options.layout ?? 'sh3';
    if (layout !== 'sh0' && layout !== 'sh3') throw new Da3Error('BAD_VALUE', `${where}: layout must be 'sh0' or 'sh3', got ${JSON.stringify(layout)}`);
    const higher = options.higherOrder ?? 'keep';
    if (higher !== 'keep' && higher !== 'zeros') throw new Da3Error('BAD_VALUE', `${where}: higherOrder must be 'keep' or 'zeros', got ${JSON.stringify(higher)}`);
    const order = checkOrder(options.rotationOrder, where);
    const sel = checkIndices(options.indices, total, where);
    checkGaussianValues(gaussians, sel, where, { scales: 'any' });
    const n = sel ? sel.length : total;
    const names = gaussiansPlyProperties(layout);
    const properties: PlyPropertyInfo[] = names.map((name) => ({ name, type: 'float' }));
    const comments = options.comments ?? [
      `da3js 3D Gaussians (${layout}), frame: OpenCV world (x right, y down, z forward); opacity logit, scale log, rot w x y z`,
    ];
    out.text(plyHeader({ format: 'binary_little_endian', comments, elements: [{ name: 'vertex', count: n, properties }] }));

    const { means, scales, opacities, harmonics, rotations } = gaussians;
    const K = gaussians.shCoefficients;
    const rest = layout === 'sh3' && higher === 'keep' ? Math.min(K, 16) - 1 : 0;
    const q = new Float64Array(4);
    for (let j = 0; j < n; j++) {
      const i = sel ? sel[j] : j;
      out.f32(means[3 * i]);
      out.f32(means[3 * i + 1]);
      out.f32(means[3 * i + 2]);
      out.f32(0);
      out.f32(0);
      out.f32(0);
      const h = 3 * K * i;
      out.f32(harmonics[h]);
      out.f32(harmonics[h + K]);
      out.f32(harmonics[h + 2 * K]);
      if (layout === 'sh3') {
        for (let c = 0; c < 3; c++) {
          for (let k = 1; k <= 15; k++) out.f32(k <= rest ? harmonics[h + c * K + k] : 0);
        }
      }
      out.f32(opacityLogit(opacities[i]));
      out.f32(Math.log(scales[3 * i]));
      out.f32(Math.log(scales[3 * i + 1]));
      out.f32(Math.log(scales[3 * i + 2]));
      rotationWxyz(q, rotations, i, order);
      out.f32(q[0]);
      out.f32(q[1]);
      out.f32(q[2]);
      out.f32(q[3]);
      if ((j & 1023) === 1023) await out.flushIfFull();
    }
    return { count: n, bytes: out.written, properties: names.length, bytesPerVertex: 4 * names.length };
  });
}

/** What {@link readGaussiansPly} returns. */
export interface GaussiansPlyData {
  /** Activated values: linear scales (`exp`), opacities (`sigmoid`), rotations xyzw (not renormalised). */
  readonly gaussians: Gaussians;
  /** `sh0` / `sh3` when the file has exactly one of our two property lists, else `other`. */
  readonly layout: GaussiansPlyLayout | 'other';
  /** The parsed file (raw stored columns, comments). */
  readonly file: PlyFile;
}

/**
 * Reads a 3DGS PLY (ours, the reference's, INRIA's; any PLY encoding and numeric property type)
 * back into `Gaussians`: the inverse transforms of the writer, in float64 then rounded to
 * float32. `shCoefficients` = 1 + (number of `f_rest_*`)/3, harmonics colour-major [G, 3, K]
 * from INRIA's channel-major f_rest. Other properties (normals, extras) are ignored.
 * @throws Da3Error `UNKNOWN_FORMAT` (not a PLY, no `vertex` element, a required property missing,
 *   f_rest count not a multiple of 3), everything {@link readPly} throws
 */
export function readGaussiansPly(bytes: Uint8Array): GaussiansPlyData {
  const file = readPly(bytes);
  const vertex = plyElement(file, 'vertex');
  const col = (name: string): PlyColumn => plyScalarColumn(vertex, name);
  const n = vertex.count;
  let nRest = 0;
  while (vertex.columns[`f_rest_${nRest}`]) nRest++;
  if (nRest % 3 !== 0) throw new Da3Error('UNKNOWN_FORMAT', `readGaussiansPly: ${nRest} f_rest properties is not a multiple of 3`);
  const K = 1 + nRest / 3;
  const x = [col('x'), col('y'), col('z')];
  const dc = [col('f_dc_0'), col('f_dc_1'), col('f_dc_2')];
  const rest: PlyColumn[] = [];
  for (let i = 0; i < nRest; i++) rest.push(col(`f_rest_${i}`));
  const op = col('opacity');
  const sc = [col('scale_0'), col('scale_1'), col('scale_2')];
  const rot = [col('rot_0'), col('rot_1'), col('rot_2'), col('rot_3')];
  const means = new Float32Array(3 * n);
  const scales = new Float32Array(3 * n);
  const rotations = new Float32Array(4 * n);
  const harmonics = new Float32Array(3 * K * n);
  const opacities = new Float32Array(n);
  const per = K - 1;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      means[3 * i + a] = x[a][i];
      scales[3 * i + a] = Math.exp(sc[a][i]);
      harmonics[3 * K * i + a * K] = dc[a][i];
      for (let k = 1; k < K; k++) harmonics[3 * K * i + a * K + k] = rest[a * per + k - 1][i];
    }
    opacities[i] = opacityFromLogit(op[i]);
    rotations[4 * i] = rot[1][i];
    rotations[4 * i + 1] = rot[2][i];
    rotations[4 * i + 2] = rot[3][i];
    rotations[4 * i + 3] = rot[0][i];
  }
  const names = vertex.properties.map((p) => p.name).join(' ');
  const allFloat = vertex.properties.every((p) => p.type === 'float');
  const layout =
    allFloat && file.format === 'binary_little_endian' && names === gaussiansPlyProperties('sh3').join(' ')
      ? 'sh3'
      : allFloat && file.format === 'binary_little_endian' && names === gaussiansPlyProperties('sh0').join(' ')
        ? 'sh0'
        : 'other';
  return {
    gaussians: { count: n, means, scales, rotations, harmonics, shCoefficients: K, opacities },
    layout,
    file,
  };
}
