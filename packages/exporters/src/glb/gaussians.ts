/**
 * 3D Gaussians as glTF 2.0 with `KHR_gaussian_splatting` (Khronos, kernel `ellipse`), one GLB.
 *
 * One POINTS primitive (so viewers without the extension show a coloured point cloud) with the
 * extension's activated values, float32, one buffer view per attribute:
 * - `POSITION` VEC3 (min/max set);
 * - `KHR_gaussian_splatting:ROTATION` VEC4, unit quaternion xyzw (glTF order), renormalised in float64;
 * - `KHR_gaussian_splatting:SCALE` VEC3, linear scale (≥ 0);
 * - `KHR_gaussian_splatting:OPACITY` SCALAR in [0, 1] (after the sigmoid);
 * - `KHR_gaussian_splatting:SH_DEGREE_l_COEF_n` VEC3 (RGB) for every complete degree stored
 *   (`shCoefficients` 1 / 4 / 9 / 16 → degree 0 / 1 / 2 / 3), coefficient `k = l² + n`, taken
 *   from da3js's colour-major `harmonics[g, c, k]` (the 3DGS convention: colour = SH·Y + 0.5);
 * - `COLOR_0` (fallback, optional) VEC4 normalised uint8: `clamp(0.5 + 0.282095·SH₀)` decoded
 *   from sRGB to linear, alpha = opacity.
 * Extension object: `kernel: 'ellipse'`, `colorSpace` (default `srgb_rec709_display`, the 3DGS
 * training space), projection/sortingMethod left at their defaults. The extension is listed in
 * `extensionsUsed` only (not required): a loader without it still gets the point cloud.
 *
 * Frame: da3js Gaussians are in the prediction's world frame with OpenCV axes. With `axes: 'gltf'`
 * (default) the data are converted exactly to glTF axes by the rotation diag(1, −1, −1) (π about
 * x): positions (x, −y, −z), quaternions `(1,0,0,0)_xyzw ⊗ q` = (w, −z, y, −x), SH coefficients
 * multiplied by ±1 (the parity of each real SH basis function under y → −y, z → −z). `'opencv'`
 * stores them unchanged. `alignment` (a row-major 4×4 rigid transform from the OpenCV world frame
 * to the scene, e.g. {@link GlbReport.alignment} from `writeGlb`, so the splats line up with the
 * point cloud) is put on the node as translation + rotation after the axis conversion; the
 * extension asks renderers to apply the node transform to positions, covariances and SH.
 */
import { Da3Error, type Gaussians, type Sink } from '@da3js/core';
import { type ChunkWriter, withSink } from '../writer.js';
import { BinPlan, GL_ARRAY_BUFFER, GL_FLOAT, GL_POINTS, GL_UNSIGNED_BYTE, assertWritten, writeGlbHead } from './container.js';
import { checkGaussianShapes, checkGaussianValues } from '../gaussians/common.js';

export const KHR_GAUSSIAN_SPLATTING = 'KHR_gaussian_splatting';
/** The zeroth-order real SH constant Y₀₀. */
export const SH_C0 = 0.28209479177387814;

/** Options of {@link writeGaussiansGltf}. */
export interface GaussiansGltfOptions {
  /** Axes of the stored data: `'gltf'` (default, y up, converted exactly) or `'opencv'` (as given). */
  axes?: 'gltf' | 'opencv';
  /**
   * Row-major 4×4 rigid transform world (OpenCV) → scene, e.g. `writeGlb`'s `alignment`. Implies
   * `axes: 'gltf'`; stored as the node's translation + rotation.
   */
  alignment?: ArrayLike<number>;
  /** `colorSpace` of the extension. Default `'srgb_rec709_display'`. */
  colorSpace?: 'srgb_rec709_display' | 'lin_rec709_display';
  /** Also write `COLOR_0` (diffuse + opacity) for viewers without the extension. Default true. */
  fallbackColor?: boolean;
}

/** What {@link writeGaussiansGltf} wrote. */
export interface GaussiansGltfReport {
  count: number;
  /** The highest SH degree written (0–3). */
  shDegree: number;
  bytes: number;
}

const WHERE = 'writeGaussiansGltf';

/** Sign of each real SH basis function (index k = l² + l + m) under (x, y, z) → (x, −y, −z). */
const SH_FLIP = [1, -1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1];

function shDegree(K: number): number {
  const d = Math.sqrt(K) - 1;
  if (!Number.isInteger(d) || d < 0 || d > 3) {
    throw new Da3Error('BAD_SHAPE', `${WHERE}: shCoefficients must be 1, 4, 9 or 16 (complete SH degrees 0–3), got ${K}`);
  }
  return d;
}

function checkGaussians(g: Gaussians): { n: number; K: number; degree: number } {
  if (g && typeof g === 'object' && g.count === 0) throw new Da3Error('EMPTY_INPUT', `${WHERE}: no Gaussians (a glTF accessor needs at least one element)`);
  const K = g.shCoefficients;
  const degree = shDegree(K);
  const n = checkGaussianShapes(g, WHERE);
  checkGaussianValues(g, null, WHERE, { scales: 'nonNegative' });
  return { n, K, degree };
}

/** Node translation + rotation (xyzw) of `alignment · diag(1, −1, −1, 1)`, validated rigid. */
function alignmentNode(alignment: ArrayLike<number>): { translation: number[]; rotation: number[] } {
  if (alignment?.length !== 16) {
    throw new Da3Error('BAD_SHAPE', `${WHERE}: alignment must be a row-major 4×4 matrix (16 numbers), got ${alignment?.length}`);
  }
  for (let i = 0; i < 16; i++) {
    if (!Number.isFinite(alignment[i])) throw new Da3Error('NON_FINITE', `${WHERE}: alignment[${i}] is ${alignment[i]}`);
  }
  const a = Array.from(alignment);
  if (Math.abs(a[12]) > 1e-9 || Math.abs(a[13]) > 1e-9 || Math.abs(a[14]) > 1e-9 || Math.abs(a[15] - 1) > 1e-9) {
    throw new Da3Error('BAD_VALUE', `${WHERE}: alignment's last row must be [0, 0, 0, 1], got [${a.slice(12).join(', ')}]`);
  }
  // R = A[:3,:3] · diag(1, −1, −1): negate columns 1 and 2.
  const R = [a[0], -a[1], -a[2], a[4], -a[5], -a[6], a[8], -a[9], -a[10]];
  const det =
    R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
  let worst = Math.abs(det - 1);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const dot = R[i] * R[j] + R[3 + i] * R[3 + j] + R[6 + i] * R[6 + j];
      worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
    }
  }
  if (worst > 1e-4) throw new Da3Error('BAD_VALUE', `${WHERE}: alignment is not a rotation + translation (deviation ${worst.toExponential(2)})`);
  return { translation: [a[3], a[7], a[11]], rotation: quatFromMatrix(R) };
}

/** Unit quaternion xyzw (w ≥ 0) of a rotation matrix (row-major 3×3), Shepperd's method. */
function quatFromMatrix(m: number[]): number[] {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m;
  const tr = m00 + m11 + m22;
  let x: number;
  let y: number;
  let z: number;
  let w: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = s / 4;
    x = (m21 - m12) / s;
    y = (m02 - m20) / s;
    z = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    w = (m21 - m12) / s;
    x = s / 4;
    y = (m01 + m10) / s;
    z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    w = (m02 - m20) / s;
    x = (m01 + m10) / s;
    y = s / 4;
    z = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    w = (m10 - m01) / s;
    x = (m02 + m20) / s;
    y = (m12 + m21) / s;
    z = s / 4;
  }
  const len = Math.hypot(x, y, z, w);
  const sign = w < 0 ? -1 : 1;
  return [(sign * x) / len, (sign * y) / len, (sign * z) / len, (sign * w) / len];
}

/** sRGB (display) → linear, the glTF COLOR_0 convention. */
function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/**
 * Writes `gaussians` as one GLB with `KHR_gaussian_splatting` into `sink` (streamed; the sink is
 * aborted on any error). See the module notes for the layout and the frame.
 *
 * @throws Da3Error `EMPTY_INPUT` (no Gaussians), `BAD_SHAPE` (lengths, shCoefficients not 1/4/9/16,
 *   alignment not 4×4), `NON_FINITE`, `BAD_VALUE` (negative scale, opacity outside [0, 1], zero
 *   quaternion, non-rigid alignment, bad option, over 4 GiB).
 */
export async function writeGaussiansGltf(gaussians: Gaussians, sink: Sink, options: GaussiansGltfOptions = {}): Promise<GaussiansGltfReport> {
  return withSink(sink, async (out) => writeInto(gaussians, out, options));
}

async function writeInto(g: Gaussians, out: ChunkWriter, options: GaussiansGltfOptions): Promise<GaussiansGltfReport> {
  const axes = options.axes ?? 'gltf';
  if (axes !== 'gltf' && axes !== 'opencv') throw new Da3Error('BAD_VALUE', `${WHERE}: axes must be 'gltf' or 'opencv', got ${JSON.stringify(axes)}`);
  const colorSpace = options.colorSpace ?? 'srgb_rec709_display';
  if (colorSpace !== 'srgb_rec709_display' && colorSpace !== 'lin_rec709_display') {
    throw new Da3Error('BAD_VALUE', `${WHERE}: colorSpace must be 'srgb_rec709_display' or 'lin_rec709_display', got ${JSON.stringify(colorSpace)}`);
  }
  const fallback = options.fallbackColor ?? true;
  if (typeof fallback !== 'boolean') throw new Da3Error('BAD_VALUE', `${WHERE}: fallbackColor must be a boolean`);
  if (options.alignment !== undefined && options.axes === 'opencv') {
    throw new Da3Error('BAD_VALUE', `${WHERE}: alignment maps to glTF axes; it cannot be combined with axes: 'opencv'`);
  }
  const node = options.alignment !== undefined ? alignmentNode(options.alignment) : null;
  const { n, K, degree } = checkGaussians(g);
  const flip = axes === 'gltf';
  const sy = flip ? -1 : 1;

  // POSITION min/max (float32 values as written).
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const v = Math.fround(a === 0 ? g.means[3 * i] : sy * g.means[3 * i + a]);
      if (v < min[a]) min[a] = v;
      if (v > max[a]) max[a] = v;
    }
  }

  const plan = new BinPlan();
  const accessors: Record<string, unknown>[] = [];
  const attributes: Record<string, number> = {};
  const addAttr = (semantic: string, type: 'SCALAR' | 'VEC3' | 'VEC4', bytesPer: number, extra: Record<string, unknown> = {}): void => {
    const bufferView = plan.add(n * bytesPer, GL_ARRAY_BUFFER);
    attributes[semantic] = accessors.length;
    accessors.push({ bufferView, componentType: GL_FLOAT, count: n, type, ...extra });
  };
  addAttr('POSITION', 'VEC3', 12, { min, max });
  addAttr(`${KHR_GAUSSIAN_SPLATTING}:ROTATION`, 'VEC4', 16);
  addAttr(`${KHR_GAUSSIAN_SPLATTING}:SCALE`, 'VEC3', 12);
  addAttr(`${KHR_GAUSSIAN_SPLATTING}:OPACITY`, 'SCALAR', 4);
  for (let l = 0; l <= degree; l++) {
    for (let m = 0; m <= 2 * l; m++) addAttr(`${KHR_GAUSSIAN_SPLATTING}:SH_DEGREE_${l}_COEF_${m}`, 'VEC3', 12);
  }
  if (fallback) {
    const bufferView = plan.add(n * 4, GL_ARRAY_BUFFER);
    attributes.COLOR_0 = accessors.length;
    accessors.push({ bufferView, componentType: GL_UNSIGNED_BYTE, normalized: true, count: n, type: 'VEC4' });
  }
  const nodeJson: Record<string, unknown> = { name: 'gaussians', mesh: 0 };
  if (node) {
    nodeJson.translation = node.translation;
    nodeJson.rotation = node.rotation;
  }
  const json: Record<string, unknown> = {
    asset: { version: '2.0', generator: 'da3js' },
    extensionsUsed: [KHR_GAUSSIAN_SPLATTING],
    scene: 0,
    scenes: [{ nodes: [0] }],
    nodes: [nodeJson],
    meshes: [
      {
        name: 'gaussians',
        primitives: [
          {
            attributes,
            mode: GL_POINTS,
            extensions: { [KHR_GAUSSIAN_SPLATTING]: { kernel: 'ellipse', colorSpace } },
          },
        ],
      },
    ],
    accessors,
  };

  const bytes = writeGlbHead(out, json, plan, WHERE);
  const binStart = out.written;
  const flush = async (i: number): Promise<void> => {
    if ((i & 0x3fff) === 0x3fff) await out.flushIfFull();
  };
  for (let i = 0; i < n; i++) {
    out.f32(g.means[3 * i]);
    out.f32(sy * g.means[3 * i + 1]);
    out.f32(sy * g.means[3 * i + 2]);
    await flush(i);
  }
  for (let i = 0; i < n; i++) {
    let x = g.rotations[4 * i];
    let y = g.rotations[4 * i + 1];
    let z = g.rotations[4 * i + 2];
    let w = g.rotations[4 * i + 3];
    if (flip) [x, y, z, w] = [w, -z, y, -x];
    const len = Math.sqrt(x * x + y * y + z * z + w * w);
    out.f32(x / len);
    out.f32(y / len);
    out.f32(z / len);
    out.f32(w / len);
    await flush(i);
  }
  for (let i = 0; i < 3 * n; i++) {
    out.f32(g.scales[i]);
    await flush(i);
  }
  for (let i = 0; i < n; i++) {
    out.f32(g.opacities[i]);
    await flush(i);
  }
  for (let k = 0; k < (degree + 1) ** 2; k++) {
    const s = flip ? SH_FLIP[k] : 1;
    for (let i = 0; i < n; i++) {
      const base = 3 * K * i + k;
      out.f32(s * g.harmonics[base]);
      out.f32(s * g.harmonics[base + K]);
      out.f32(s * g.harmonics[base + 2 * K]);
      await flush(i);
    }
  }
  if (fallback) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        let v = Math.min(1, Math.max(0, 0.5 + SH_C0 * g.harmonics[3 * K * i + c * K]));
        if (colorSpace === 'srgb_rec709_display') v = srgbToLinear(v);
        out.u8(Math.round(v * 255));
      }
      out.u8(Math.round(g.opacities[i] * 255));
      await flush(i);
    }
  }
  assertWritten(out, binStart, plan.byteLength, WHERE);
  return { count: n, shDegree: degree, bytes };
}
