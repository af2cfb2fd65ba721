import { Da3Error } from '../../errors.js';
import type { Gaussians } from '../../prediction/prediction.js';
import { GSPLAT_CONSTANTS } from './constants.js';
import type { RasterizeOptions, RenderCamera } from './types.js';

/**
 * Everything one render needs besides the scene arrays, resolved and validated: plain numbers
 * only, so it can be posted to workers as is. Made by {@link prepareRasterFrame}.
 */
export interface RasterFrame {
  readonly width: number;
  readonly height: number;
  /** Tiles across / down (`ceil(width / 16)`, `ceil(height / 16)`). */
  readonly tilesX: number;
  readonly tilesY: number;
  /** World→camera rotation, row-major 3×3. */
  readonly rotation: readonly number[];
  /** World→camera translation. */
  readonly translation: readonly number[];
  /** Camera centre in world coordinates (`−R⁻¹t`), for SH view directions. */
  readonly cameraCentre: readonly number[];
  readonly fx: number;
  readonly fy: number;
  readonly cx: number;
  readonly cy: number;
  readonly near: number;
  readonly far: number;
  readonly eps2d: number;
  readonly shDegree: number;
  /** The scene's coefficients per colour (K). */
  readonly shCoefficients: number;
  readonly background: readonly [number, number, number];
  /** `renderMode === 'RGB+ED'`. */
  readonly withDepth: boolean;
  /** Number of Gaussians. */
  readonly count: number;
}

/** The scene arrays a rasterizer reads (core's {@link Gaussians} layout; may be SharedArrayBuffer views). */
export interface RasterScene {
  readonly count: number;
  readonly means: Float32Array;
  readonly scales: Float32Array;
  /** xyzw, any norm (normalised like gsplat does). */
  readonly rotations: Float32Array;
  /** `[G, 3, K]` colour-major. */
  readonly harmonics: Float32Array;
  readonly shCoefficients: number;
  readonly opacities: Float32Array;
}

function finite(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Da3Error('NON_FINITE', `${fn}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

function numbers(fn: string, name: string, a: ArrayLike<number> | undefined | null, n: number, shape: string): number[] {
  if (a === null || a === undefined || typeof a !== 'object' || typeof a.length !== 'number') {
    throw new Da3Error('BAD_SHAPE', `${fn}: ${name} must be ${shape} (${n} numbers), got ${a === null ? 'null' : typeof a}`);
  }
  if (a.length !== n) throw new Da3Error('BAD_SHAPE', `${fn}: ${name} must be ${shape} (${n} numbers), got length ${a.length}`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(finite(fn, `${name}[${i}]`, a[i]));
  return out;
}

function arrayLength(fn: string, name: string, a: unknown, want: number, shape: string): void {
  if (!(a instanceof Float32Array)) throw new Da3Error('BAD_SHAPE', `${fn}: gaussians.${name} must be a Float32Array ${shape}, got ${a === null ? 'null' : typeof a}`);
  if (a.length !== want) throw new Da3Error('BAD_SHAPE', `${fn}: gaussians.${name} must be ${shape} = ${want} values, got ${a.length}`);
}

/**
 * Checks the scene's array lengths against `count` and `shCoefficients` (not their values).
 *
 * @throws Da3Error `BAD_VALUE` for a bad count / coefficient count, `BAD_SHAPE` for lengths.
 */
export function checkRasterScene(fn: string, g: Gaussians | RasterScene): void {
  if (g === null || typeof g !== 'object') throw new Da3Error('BAD_VALUE', `${fn}: gaussians must be a Gaussians object, got ${g === null ? 'null' : typeof g}`);
  const n = g.count;
  if (!Number.isInteger(n) || n < 0) throw new Da3Error('BAD_VALUE', `${fn}: gaussians.count must be a non-negative integer, got ${n}`);
  const k = g.shCoefficients;
  if (!Number.isInteger(k) || k < 1) throw new Da3Error('BAD_VALUE', `${fn}: gaussians.shCoefficients must be a positive integer, got ${k}`);
  arrayLength(fn, 'means', g.means, 3 * n, `[${n}, 3]`);
  arrayLength(fn, 'scales', g.scales, 3 * n, `[${n}, 3]`);
  arrayLength(fn, 'rotations', g.rotations, 4 * n, `[${n}, 4]`);
  arrayLength(fn, 'harmonics', g.harmonics, 3 * k * n, `[${n}, 3, ${k}]`);
  arrayLength(fn, 'opacities', g.opacities, n, `[${n}]`);
}

/**
 * Validates a render request and resolves gsplat's defaults into a {@link RasterFrame}.
 *
 * @throws Da3Error `BAD_SHAPE` (array lengths, camera shapes), `BAD_VALUE` (size, SH degree,
 *   render mode, near ≥ far), `NON_FINITE` (camera, options), `DEGENERATE` (fx or fy zero, or a
 *   singular extrinsic rotation).
 */
export function prepareRasterFrame(fn: string, gaussians: Gaussians | RasterScene, camera: RenderCamera, options: RasterizeOptions = {}): RasterFrame {
  checkRasterScene(fn, gaussians);
  if (camera === null || typeof camera !== 'object') throw new Da3Error('BAD_VALUE', `${fn}: camera must be a RenderCamera, got ${camera === null ? 'null' : typeof camera}`);
  const { width, height } = camera;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v > 65536) throw new Da3Error('BAD_VALUE', `${fn}: camera.${name} must be an integer in 1..65536, got ${v}`);
  }
  const e = numbers(fn, 'camera.extrinsics', camera.extrinsics, 12, '3×4 row-major [R|t]');
  const k = numbers(fn, 'camera.intrinsics', camera.intrinsics, 9, '3×3 row-major');
  const rotation = [e[0], e[1], e[2], e[4], e[5], e[6], e[8], e[9], e[10]];
  const translation = [e[3], e[7], e[11]];
  const [fx, cx, fy, cy] = [k[0], k[2], k[4], k[5]];
  if (fx === 0 || fy === 0) throw new Da3Error('DEGENERATE', `${fn}: camera.intrinsics fx and fy must be non-zero, got ${fx}, ${fy}`);
  // camera centre = −R⁻¹t (gsplat: torch.inverse(viewmat)[:3, 3])
  const r = rotation;
  const c00 = r[4] * r[8] - r[5] * r[7];
  const c01 = r[2] * r[7] - r[1] * r[8];
  const c02 = r[1] * r[5] - r[2] * r[4];
  const det = r[0] * c00 + r[3] * c01 + r[6] * c02;
  if (!(Math.abs(det) > 1e-12) || !Number.isFinite(det)) throw new Da3Error('DEGENERATE', `${fn}: camera.extrinsics rotation is singular (det ${det})`);
  const inv = [
    c00, c01, c02,
    r[5] * r[6] - r[3] * r[8], r[0] * r[8] - r[2] * r[6], r[2] * r[3] - r[0] * r[5],
    r[3] * r[7] - r[4] * r[6], r[1] * r[6] - r[0] * r[7], r[0] * r[4] - r[1] * r[3],
  ].map((v) => v / det); // prettier-ignore
  const t = translation;
  const cameraCentre = [0, 1, 2].map((i) => -(inv[3 * i] * t[0] + inv[3 * i + 1] * t[1] + inv[3 * i + 2] * t[2]));

  if (options === null || typeof options !== 'object') throw new Da3Error('BAD_VALUE', `${fn}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  const d = GSPLAT_CONSTANTS.defaults;
  const near = options.near === undefined ? d.near : finite(fn, 'options.near', options.near);
  const far = options.far === undefined ? d.far : finite(fn, 'options.far', options.far);
  if (!(near < far)) throw new Da3Error('BAD_VALUE', `${fn}: options.near (${near}) must be less than options.far (${far})`);
  const eps2d = options.eps2d === undefined ? d.eps2d : finite(fn, 'options.eps2d', options.eps2d);
  if (eps2d < 0) throw new Da3Error('BAD_VALUE', `${fn}: options.eps2d must be ≥ 0, got ${eps2d}`);
  const bg = options.background === undefined ? [0, 0, 0] : numbers(fn, 'options.background', options.background, 3, '[r, g, b]');
  const mode = options.renderMode ?? 'RGB';
  if (mode !== 'RGB' && mode !== 'RGB+ED') throw new Da3Error('BAD_VALUE', `${fn}: options.renderMode must be 'RGB' or 'RGB+ED', got ${String(mode)}`);
  const kCoef = gaussians.shCoefficients;
  const maxDegree = Math.floor(Math.sqrt(kCoef) + 1e-9) - 1;
  const shDegree = options.shDegree ?? maxDegree;
  if (!Number.isInteger(shDegree) || shDegree < 0 || shDegree > 3) {
    throw new Da3Error('BAD_VALUE', `${fn}: SH degree must be 0, 1, 2 or 3 (gsplat's degree 4 is not implemented), got ${shDegree}${options.shDegree === undefined ? ` (from ${kCoef} coefficients; pass options.shDegree)` : ''}`);
  }
  if ((shDegree + 1) ** 2 > kCoef) throw new Da3Error('BAD_VALUE', `${fn}: options.shDegree ${shDegree} needs ${(shDegree + 1) ** 2} coefficients per colour, the scene has ${kCoef}`);
  const ts = GSPLAT_CONSTANTS.tileSize;
  return {
    width,
    height,
    tilesX: Math.ceil(width / ts),
    tilesY: Math.ceil(height / ts),
    rotation,
    translation,
    cameraCentre,
    fx,
    fy,
    cx,
    cy,
    near,
    far,
    eps2d,
    shDegree,
    shCoefficients: kCoef,
    background: [bg[0], bg[1], bg[2]],
    withDepth: mode === 'RGB+ED',
    count: gaussians.count,
  };
}
