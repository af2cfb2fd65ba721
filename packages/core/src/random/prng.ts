/**
 * Deterministic pseudo-random numbers for da3js's replacements of the reference's unseeded
 * random steps (RANSAC draws, sampled quantiles, point subsampling). The same seed gives the same
 * sequence in every runtime.
 *
 * Algorithm: mulberry32 on a 32-bit state (seed mixed with SplitMix32 first).
 */
export interface Prng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** Creates a seeded PRNG. `seed` is any integer (taken modulo 2³²). */
export function createPrng(seed: number): Prng {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35);
  s ^= s >>> 16;
  let state = s >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

/**
 * `k` distinct integers from [0, n) in random order (a partial Fisher–Yates shuffle), the seeded
 * counterpart of `torch.randperm(n)[:k]` / `Generator.choice(n, k, replace=False)`.
 */
export function sampleWithoutReplacement(prng: Prng, n: number, k: number): Int32Array {
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  const m = Math.min(k, n);
  for (let i = 0; i < m; i++) {
    const j = i + prng.int(n - i);
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, m);
}
