/**
 * numpy's legacy `RandomState(seed)` (MT19937), only what scikit-learn's `RANSACRegressor` and
 * `np.random.choice(..., replace=False)` draw from it: `randint(n)` (masked rejection on 32-bit
 * outputs) and `permutation(n)` (Fisher–Yates from the end with `random_interval`). Bit-exact with
 * numpy ≥ 1.17 (the legacy stream is frozen).
 */
import { Da3Error } from '../../errors.js';

const N = 624;
const M = 397;

/** The subset of numpy's `RandomState` the reference's RANSAC scale uses. */
export interface LegacyRandomState {
  /** `genrand_int32`: the next 32-bit output. */
  nextUint32(): number;
  /** `RandomState.randint(n)`: uniform integer in [0, n), n ≤ 2³². */
  randint(n: number): number;
  /** `RandomState.permutation(n)`: a shuffled `arange(n)`. */
  permutation(n: number): Int32Array;
}

/** `numpy.random.RandomState(seed)` for an integer seed in [0, 2³²). */
export function legacyRandomState(seed: number): LegacyRandomState {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Da3Error('BAD_VALUE', `legacyRandomState: seed must be an integer in [0, 2^32), got ${seed}`);
  }
  const mt = new Uint32Array(N);
  mt[0] = seed >>> 0;
  for (let i = 1; i < N; i++) {
    const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
    // 1812433253 · prev + i (mod 2³²), without losing bits to float rounding.
    mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
  }
  let pos = N;

  const generate = (): void => {
    let y: number;
    let kk = 0;
    for (; kk < N - M; kk++) {
      y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    pos = 0;
  };

  const nextUint32 = (): number => {
    if (pos >= N) generate();
    let y = mt[pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };

  /** Uniform in [0, max] by masked rejection (numpy `random_interval` / `bounded_masked_uint32`). */
  const interval = (max: number): number => {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new Da3Error('OUT_OF_RANGE', `legacyRandomState: bound ${max} exceeds 2^32`);
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do v = (nextUint32() & mask) >>> 0;
    while (v > max);
    return v;
  };

  return {
    nextUint32,
    randint(n: number): number {
      if (!Number.isInteger(n) || n <= 0) throw new Da3Error('BAD_VALUE', `legacyRandomState.randint: n must be a positive integer, got ${n}`);
      return interval(n - 1);
    },
    permutation(n: number): Int32Array {
      if (!Number.isInteger(n) || n < 0) throw new Da3Error('BAD_VALUE', `legacyRandomState.permutation: n must be a non-negative integer, got ${n}`);
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = i;
      for (let i = n - 1; i >= 1; i--) {
        const j = interval(i);
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
      }
      return a;
    },
  };
}
