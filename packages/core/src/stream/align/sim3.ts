/**
 * Sim(3) values of DA3-Streaming: the chunk-to-chunk transforms, their composition (the
 * reference's `accumulate_sim3_transforms`, `compute_sim3_ab`), and their action on point maps and
 * camera extrinsics (`apply_sim3_direct`, `save_camera_poses`). Everything float64.
 *
 * Reference: `da3_streaming/loop_utils/sim3utils.py` and `da3_streaming/da3_streaming.py` of
 * github.com/ByteDance-Seed/Depth-Anything-3 (built on VGGT-Long).
 */
import { Da3Error } from '../../errors.js';

/** A similarity transform x ↦ scale·R·x + t (float64). */
export interface Sim3 {
  /** Positive scale. */
  readonly scale: number;
  /** 3×3 rotation, row-major (det +1). */
  readonly rotation: Float64Array;
  /** Translation (3). */
  readonly translation: Float64Array;
}

/** The identity Sim(3). */
export function identitySim3(): Sim3 {
  return { scale: 1, rotation: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), translation: new Float64Array(3) };
}

/**
 * Builds a {@link Sim3} from its parts (copied to float64), checking sizes and finiteness: the
 * reference's `(s, R, t)` tuple.
 */
export function makeSim3(scale: number, rotation: ArrayLike<number>, translation: ArrayLike<number>): Sim3 {
  const s = { scale, rotation: Float64Array.from(rotation), translation: Float64Array.from(translation) };
  assertSim3('makeSim3', 'sim', s);
  return s;
}

/** Throws BAD_SHAPE / NON_FINITE / BAD_VALUE for a malformed Sim(3). @internal */
export function assertSim3(where: string, name: string, s: Sim3): void {
  if (s === null || typeof s !== 'object') throw new Da3Error('BAD_VALUE', `${where}: ${name} is not a Sim3`);
  if (s.rotation?.length !== 9) {
    throw new Da3Error('BAD_SHAPE', `${where}: ${name}.rotation has ${s.rotation?.length} numbers, expected 9 (3×3 row-major)`);
  }
  if (s.translation?.length !== 3) {
    throw new Da3Error('BAD_SHAPE', `${where}: ${name}.translation has ${s.translation?.length} numbers, expected 3`);
  }
  if (!Number.isFinite(s.scale)) throw new Da3Error('NON_FINITE', `${where}: ${name}.scale is ${s.scale}`);
  if (!(s.scale > 0)) throw new Da3Error('BAD_VALUE', `${where}: ${name}.scale must be positive, got ${s.scale}`);
  for (let i = 0; i < 9; i++) {
    if (!Number.isFinite(s.rotation[i])) throw new Da3Error('NON_FINITE', `${where}: ${name}.rotation[${i}] is ${s.rotation[i]}`);
  }
  for (let i = 0; i < 3; i++) {
    if (!Number.isFinite(s.translation[i])) throw new Da3Error('NON_FINITE', `${where}: ${name}.translation[${i}] is ${s.translation[i]}`);
  }
}

/** a∘b: x ↦ a(b(x)) — scale a.s·b.s, rotation Ra·Rb, translation a.s·Ra·tb + ta. */
export function composeSim3(a: Sim3, b: Sim3): Sim3 {
  assertSim3('composeSim3', 'a', a);
  assertSim3('composeSim3', 'b', b);
  return composeUnchecked(a, b);
}

/** @internal */
export function composeUnchecked(a: Sim3, b: Sim3): Sim3 {
  const Ra = a.rotation, Rb = b.rotation, tb = b.translation;
  const rotation = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) rotation[3 * r + c] = Ra[3 * r] * Rb[c] + Ra[3 * r + 1] * Rb[3 + c] + Ra[3 * r + 2] * Rb[6 + c];
  }
  const translation = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    translation[r] = a.scale * (Ra[3 * r] * tb[0] + Ra[3 * r + 1] * tb[1] + Ra[3 * r + 2] * tb[2]) + a.translation[r];
  }
  return { scale: a.scale * b.scale, rotation, translation };
}

/** The inverse: x ↦ Rᵀ(x − t)/s (scale 1/s, rotation Rᵀ, translation −Rᵀt/s). */
export function invertSim3(a: Sim3): Sim3 {
  assertSim3('invertSim3', 'a', a);
  return invertUnchecked(a);
}

/** @internal */
export function invertUnchecked(a: Sim3): Sim3 {
  const R = a.rotation, t = a.translation;
  const rotation = Float64Array.of(R[0], R[3], R[6], R[1], R[4], R[7], R[2], R[5], R[8]);
  const translation = new Float64Array(3);
  for (let r = 0; r < 3; r++) translation[r] = -(R[r] * t[0] + R[3 + r] * t[1] + R[6 + r] * t[2]) / a.scale;
  return { scale: 1 / a.scale, rotation, translation };
}

/**
 * Applies `s` to N×3 points (any layout ending in 3: `[F,H,W,3]` point maps too): float64 maths,
 * a new Float32Array (the reference's `apply_sim3_direct`).
 */
export function applySim3ToPoints(s: Sim3, points: Float32Array): Float32Array {
  assertSim3('applySim3ToPoints', 's', s);
  if (points.length % 3 !== 0) throw new Da3Error('BAD_SHAPE', `applySim3ToPoints: ${points.length} numbers is not N×3`);
  const out = new Float32Array(points.length);
  const R = s.rotation, t = s.translation, k = s.scale;
  const a0 = k * R[0], a1 = k * R[1], a2 = k * R[2], a3 = k * R[3], a4 = k * R[4], a5 = k * R[5], a6 = k * R[6], a7 = k * R[7], a8 = k * R[8];
  for (let i = 0; i < points.length; i += 3) {
    const x = points[i], y = points[i + 1], z = points[i + 2];
    out[i] = a0 * x + a1 * y + a2 * z + t[0];
    out[i + 1] = a3 * x + a4 * y + a5 * z + t[1];
    out[i + 2] = a6 * x + a7 * y + a8 * z + t[2];
  }
  return out;
}

/**
 * The world→camera extrinsics of a camera after its world is mapped by `s` (x ↦ s·R·x + t):
 * `[R_c·Rᵀ | s·t_c − R_c·Rᵀ·t]`, a Float64Array(12) (3×4 row-major). `w2c` is 3×4 (12 numbers)
 * or 4×4 (16; the last row is ignored).
 *
 * The camera's own units scale with the world: depths seen by the new camera are `s×` the old ones
 * (the reference multiplies the chunk's depth by `s`). This is `save_camera_poses`' `S @ c2w` with
 * the rotation block divided by `s`, inverted back to w2c.
 */
export function applySim3ToExtrinsics(s: Sim3, w2c: ArrayLike<number>): Float64Array {
  const where = 'applySim3ToExtrinsics';
  assertSim3(where, 's', s);
  if (w2c.length !== 12 && w2c.length !== 16) {
    throw new Da3Error('BAD_SHAPE', `${where}: w2c has ${w2c.length} numbers, expected 12 (3×4) or 16 (4×4)`);
  }
  for (let i = 0; i < 12; i++) {
    if (!Number.isFinite(w2c[i])) throw new Da3Error('NON_FINITE', `${where}: w2c[${i}] is ${w2c[i]}`);
  }
  const R = s.rotation, t = s.translation;
  const out = new Float64Array(12);
  for (let r = 0; r < 3; r++) {
    // Row r of R_c·Rᵀ: Σ_k Rc[r,k]·R[c,k].
    for (let c = 0; c < 3; c++) out[4 * r + c] = w2c[4 * r] * R[3 * c] + w2c[4 * r + 1] * R[3 * c + 1] + w2c[4 * r + 2] * R[3 * c + 2];
    out[4 * r + 3] = s.scale * w2c[4 * r + 3] - (out[4 * r] * t[0] + out[4 * r + 1] * t[1] + out[4 * r + 2] * t[2]);
  }
  return out;
}

/**
 * The reference's `accumulate_sim3_transforms`: adjacent transforms S₀₁, S₁₂, … (each maps chunk
 * k+1 into chunk k) → cumulative S₀₁, S₀₁∘S₁₂, … (each maps chunk k+1 into chunk 0's frame).
 */
export function accumulateSim3Transforms(transforms: readonly Sim3[]): Sim3[] {
  const out: Sim3[] = [];
  transforms.forEach((s, i) => {
    assertSim3('accumulateSim3Transforms', `transforms[${i}]`, s);
    out.push(i === 0 ? cloneSim3(s) : composeUnchecked(out[i - 1], s));
  });
  return out;
}

/**
 * The reference's `compute_sim3_ab(S_a, S_b)`: `S_b ∘ S_a⁻¹` (scale s_b/s_a, rotation R_b·R_aᵀ,
 * translation t_b − s_ab·R_ab·t_a). Given a loop chunk aligned into chunk a (S_a) and into chunk b
 * (S_b), it maps chunk a's frame into chunk b's.
 */
export function computeSim3Ab(a: Sim3, b: Sim3): Sim3 {
  assertSim3('computeSim3Ab', 'a', a);
  assertSim3('computeSim3Ab', 'b', b);
  const sAb = b.scale / a.scale;
  const Ra = a.rotation, Rb = b.rotation;
  const rotation = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) rotation[3 * r + c] = Rb[3 * r] * Ra[3 * c] + Rb[3 * r + 1] * Ra[3 * c + 1] + Rb[3 * r + 2] * Ra[3 * c + 2];
  }
  const ta = a.translation;
  const translation = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    translation[r] = b.translation[r] - sAb * (rotation[3 * r] * ta[0] + rotation[3 * r + 1] * ta[1] + rotation[3 * r + 2] * ta[2]);
  }
  return { scale: sAb, rotation, translation };
}

/** A deep copy. */
export function cloneSim3(s: Sim3): Sim3 {
  return { scale: s.scale, rotation: Float64Array.from(s.rotation), translation: Float64Array.from(s.translation) };
}
