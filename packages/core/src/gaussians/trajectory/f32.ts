/**
 * Small float32-emulation helpers for the trajectory maths. The reference runs most of it in
 * float32 torch (a few steps in float64); the port computes in float64 and rounds to float32
 * (`Math.fround`) where the reference stores a float32 tensor, which keeps it within a few float32
 * ulps of the reference instead of drifting by float32 rounding noise.
 */

/** Rounds to the nearest float32. */
export const f32 = Math.fround;

/**
 * `torch.linspace(start, end, steps)` as float32: each value `start + (end − start)·i/(steps − 1)`
 * computed in float64 and rounded once (both ends exact). torch's float32 kernels (CPU: FMA and
 * vector lanes; CUDA: its own split) land within one float32 ulp of these values.
 */
export function linspaceF32(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  for (let i = 0; i < steps; i++) out[i] = i === steps - 1 ? e : f32(s + ((e - s) * i) / (steps - 1));
  return out;
}

/** `torch.remainder` for floats: `fmod`, moved into the divisor's sign. */
export function remainder(a: number, b: number): number {
  let m = a % b;
  if (m !== 0 && b < 0 !== m < 0) m += b;
  return m;
}
