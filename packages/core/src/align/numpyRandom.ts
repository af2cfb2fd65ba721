/**
 * A bit-exact re-implementation of the small part of numpy's random API that the reference's
 * RANSAC pose alignment uses: `numpy.random.default_rng(seed)` (SeedSequence → PCG64, XSL-RR
 * output, 128-bit LCG) and `Generator.choice(n, k, replace=False)` (Floyd's algorithm plus the
 * final shuffle, or the tail shuffle for large populations; bounded integers by Lemire's method on
 * 32-bit draws). With it, `pose_align.py`'s `random_state=42` draws are reproduced exactly.
 *
 * Checked against the fixture's recorded draws (numpy 1.24) and numpy 2.x outputs. numpy only
 * promises stream stability per version; this follows the algorithm numpy has used since 1.17.
 * BigInt arithmetic: fast enough for RANSAC-sized draws, not meant for bulk sampling.
 */
import { Da3Error } from '../errors.js';

const M32 = 0xffffffffn;
const M64 = (1n << 64n) - 1n;
const M128 = (1n << 128n) - 1n;
const PCG_MULT = (2549297995355413924n << 64n) + 4865540595714422341n;

// SeedSequence hashing constants (numpy/random/bit_generator.pyx).
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const POOL_SIZE = 4;

/** numpy `Generator(PCG64(seed))` subset. */
export interface NumpyGenerator {
  /** Next raw 64-bit output (`bit_generator.random_raw()`). */
  nextUint64(): bigint;
  /** Next 32-bit output (low half of a 64-bit draw, then its high half). */
  nextUint32(): number;
  /** Uniform integer in [0, max] inclusive (numpy `random_bounded_uint64(0, max)`, max < 2³²). */
  boundedInclusive(max: number): number;
  /** `Generator.choice(n, k, replace=False)` (shuffle=True): `k` distinct indices in [0, n). */
  choiceWithoutReplacement(n: number, k: number): Int32Array;
}

/**
 * `numpy.random.default_rng(seed)` for a non-negative integer seed: SeedSequence(seed) →
 * `generate_state(4, uint64)` → PCG64 (state = words 0‖1, increment = words 2‖3).
 */
export function numpyDefaultRng(seed: number | bigint): NumpyGenerator {
  let entropy: bigint;
  if (typeof seed === 'bigint') entropy = seed;
  else {
    if (!Number.isSafeInteger(seed)) throw new Da3Error('BAD_VALUE', `numpyDefaultRng: seed must be a non-negative integer, got ${seed}`);
    entropy = BigInt(seed);
  }
  if (entropy < 0n) throw new Da3Error('BAD_VALUE', `numpyDefaultRng: seed must be non-negative, got ${seed}`);

  const words = seedSequenceState64(seedSequencePool(entropy), 4);
  const initState = (words[0] << 64n) | words[1];
  const initSeq = (words[2] << 64n) | words[3];
  const inc = ((initSeq << 1n) | 1n) & M128;
  let state = 0n;
  const step = (): void => {
    state = (state * PCG_MULT + inc) & M128;
  };
  step();
  state = (state + initState) & M128;
  step();

  let hasUint32 = false;
  let uinteger = 0;

  const nextUint64 = (): bigint => {
    step();
    const v = ((state >> 64n) ^ state) & M64;
    const rot = state >> 122n;
    return ((v >> rot) | (v << ((64n - rot) & 63n))) & M64;
  };
  const nextUint32 = (): number => {
    if (hasUint32) {
      hasUint32 = false;
      return uinteger;
    }
    const next = nextUint64();
    hasUint32 = true;
    uinteger = Number(next >> 32n);
    return Number(next & M32);
  };
  const boundedInclusive = (max: number): number => {
    if (max === 0) return 0;
    if (!Number.isInteger(max) || max < 0 || max >= 0xffffffff) {
      throw new Da3Error('BAD_VALUE', `numpyDefaultRng: bounded draw needs an integer max in [0, 2³²−1), got ${max}`);
    }
    // Lemire's nearly-divisionless method on 32-bit draws.
    const rngExcl = BigInt(max) + 1n;
    let m = BigInt(nextUint32()) * rngExcl;
    let leftover = m & M32;
    if (leftover < rngExcl) {
      const threshold = (M32 - BigInt(max)) % rngExcl;
      while (leftover < threshold) {
        m = BigInt(nextUint32()) * rngExcl;
        leftover = m & M32;
      }
    }
    return Number(m >> 32n);
  };
  const choiceWithoutReplacement = (n: number, k: number): Int32Array => {
    if (!Number.isInteger(n) || n < 0 || n >= 0x7fffffff) throw new Da3Error('BAD_VALUE', `numpyDefaultRng.choice: bad population ${n}`);
    if (!Number.isInteger(k) || k < 0 || k > n) throw new Da3Error('BAD_VALUE', `numpyDefaultRng.choice: cannot take ${k} of ${n} without replacement`);
    const cutoff = 50;
    if (n > 10000 && k > Math.floor(n / cutoff)) {
      // Tail shuffle: shuffle positions n−1 … max(n−k, 1) of arange(n), keep the last k.
      const idx = new Int32Array(n);
      for (let i = 0; i < n; i++) idx[i] = i;
      shuffleInt(idx, n, Math.max(n - k, 1), boundedInclusive);
      return idx.slice(n - k);
    }
    // Floyd's algorithm, then a full shuffle of the k results.
    const out = new Int32Array(k);
    const seen = new Set<number>();
    for (let j = n - k; j < n; j++) {
      const val = boundedInclusive(j);
      if (!seen.has(val)) {
        seen.add(val);
        out[j - n + k] = val;
      } else {
        seen.add(j);
        out[j - n + k] = j;
      }
    }
    shuffleInt(out, k, 1, boundedInclusive);
    return out;
  };
  return { nextUint64, nextUint32, boundedInclusive, choiceWithoutReplacement };
}

/** numpy `_shuffle_int`: Fisher–Yates over positions n−1 down to `first`. */
function shuffleInt(data: Int32Array, n: number, first: number, bounded: (max: number) => number): void {
  for (let i = n - 1; i >= first; i--) {
    const j = bounded(i);
    const t = data[j];
    data[j] = data[i];
    data[i] = t;
  }
}

/** SeedSequence's entropy pool (4 uint32 words) for a non-negative integer entropy. */
function seedSequencePool(entropy: bigint): number[] {
  const ent: number[] = [];
  if (entropy === 0n) ent.push(0);
  for (let e = entropy; e > 0n; e >>= 32n) ent.push(Number(e & M32));

  let hashConst = INIT_A;
  const hashmix = (value: number): number => {
    let v = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    return (v ^ (v >>> 16)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  const pool = new Array<number>(POOL_SIZE).fill(0);
  for (let i = 0; i < POOL_SIZE; i++) pool[i] = hashmix(i < ent.length ? ent[i] : 0);
  for (let s = 0; s < POOL_SIZE; s++) {
    for (let d = 0; d < POOL_SIZE; d++) if (s !== d) pool[d] = mix(pool[d], hashmix(pool[s]));
  }
  for (let s = POOL_SIZE; s < ent.length; s++) {
    for (let d = 0; d < POOL_SIZE; d++) pool[d] = mix(pool[d], hashmix(ent[s]));
  }
  return pool;
}

/** `SeedSequence.generate_state(n, uint64)`: 2n uint32 words, paired little-endian. */
function seedSequenceState64(pool: number[], n: number): bigint[] {
  let hashConst = INIT_B;
  const w: number[] = [];
  for (let i = 0; i < 2 * n; i++) {
    let v = (pool[i % POOL_SIZE] ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_B) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    w.push((v ^ (v >>> 16)) >>> 0);
  }
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(BigInt(w[2 * i]) | (BigInt(w[2 * i + 1]) << 32n));
  return out;
}
