/**
 * Rounding helpers shared by the preprocessing code (internal; not re-exported from the package).
 *
 * The reference mixes three rounding rules and they must not be confused:
 * - Python's `round(x)` and OpenCV's `cvRound` / `saturate_cast<int>` round half to even;
 * - `int(x)` / `astype(np.uint8)` truncate toward zero;
 * - OpenCV's fixed-point casts (`(v + (1 << (n-1))) >> n`) round half up.
 */

/** Round half to even (Python `round(x)`, C `lrint` in the default rounding mode, OpenCV `cvRound`). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
