/**
 * Symmetric weight quantizers (pure functions over float32 arrays), the arithmetic behind
 * {@link quantizeGraph}. Values round half away from zero and are clamped to the signed range.
 */

/** Rounds half away from zero (`Math.round` rounds −2.5 to −2). */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** A row-major [K, N] weight quantized per output column: `w[k, n] ≈ q[k, n] · scale[n]`. */
export interface PerColumnQuantized {
  /** int8 [K, N]. */
  readonly q: Int8Array;
  /** float32 [N]. */
  readonly scale: Float32Array;
}

/**
 * Quantizes a MatMul weight `w` (row-major [K, N], N output columns) to int8 with one scale per
 * column: `scale[n] = max_k |w[k, n]| / qmax`, `q = round(w / scale)` clamped to [−qmax, qmax].
 * `qmax` 127 uses the full int8 range; 63 (7 bits) keeps x86 AVX2's `vpmaddubsw` from saturating
 * (onnxruntime's `reduce_range`). An all-zero column gets scale 1.
 */
export function quantizePerColumn(w: Float32Array, K: number, N: number, qmax = 127): PerColumnQuantized {
  const amax = new Float32Array(N);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) {
      const a = Math.abs(w[row + n]);
      if (a > amax[n]) amax[n] = a;
    }
  }
  const scale = new Float32Array(N);
  const inv = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    scale[n] = amax[n] > 0 ? amax[n] / qmax : 1;
    inv[n] = 1 / scale[n];
  }
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) {
      const v = roundHalfAway(w[row + n] * inv[n]);
      q[row + n] = Math.min(qmax, Math.max(-qmax, v));
    }
  }
  return { q, scale };
}

/**
 * A Conv weight ([O, I, kh, kw], row-major) quantized per output channel (axis 0) to int8:
 * `w[o, …] ≈ q[o, …] · scale[o]`.
 */
export function quantizePerOutputChannel(w: Float32Array, outChannels: number, qmax = 127): PerColumnQuantized {
  const per = w.length / outChannels;
  const q = new Int8Array(w.length);
  const scale = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let amax = 0;
    for (let i = o * per; i < (o + 1) * per; i++) amax = Math.max(amax, Math.abs(w[i]));
    scale[o] = amax > 0 ? amax / qmax : 1;
    const inv = 1 / scale[o];
    for (let i = o * per; i < (o + 1) * per; i++) {
      const v = roundHalfAway(w[i] * inv);
      q[i] = Math.min(qmax, Math.max(-qmax, v));
    }
  }
  return { q, scale };
}

/** A weight in onnxruntime's `MatMulNBits` layout. */
export interface BlockQuantized {
  /** uint8 [N, blocks, blockSize · bits / 8]: unsigned codes (value + 2^(bits−1)), low nibble first for 4 bits. */
  readonly packed: Uint8Array;
  /** float32 [N · blocks]. */
  readonly scales: Float32Array;
  readonly blocks: number;
  /** Bytes per block. */
  readonly blobSize: number;
}

/**
 * Quantizes a MatMul weight (row-major [K, N]) for `com.microsoft.MatMulNBits`: blocks of
 * `blockSize` along K for each output column, symmetric, codes stored unsigned with the default
 * zero point 2^(bits−1) (so no zero-point tensor is needed). 8 bits: `scale = amax / 127`.
 * 4 bits: the block's largest-magnitude value maps to −8 exactly (`scale = −that / 8`), which uses
 * all 16 codes. K is padded with zero codes to whole blocks.
 */
export function quantizeBlockwise(w: Float32Array, K: number, N: number, bits: 4 | 8, blockSize: number): BlockQuantized {
  const blocks = Math.ceil(K / blockSize);
  const blobSize = (blockSize * bits) / 8;
  const zero = 1 << (bits - 1);
  const lo = -zero;
  const hi = zero - 1;
  const packed = new Uint8Array(N * blocks * blobSize);
  const scales = new Float32Array(N * blocks);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      const k0 = b * blockSize;
      const k1 = Math.min(K, k0 + blockSize);
      let peak = 0;
      for (let k = k0; k < k1; k++) {
        const v = w[k * N + n];
        if (Math.abs(v) > Math.abs(peak)) peak = v;
      }
      const s = peak === 0 ? 1 : bits === 4 ? -peak / 8 : Math.abs(peak) / 127;
      scales[n * blocks + b] = s;
      const inv = 1 / s;
      const base = (n * blocks + b) * blobSize;
      for (let i = 0; i < blockSize; i++) {
        const k = k0 + i;
        let v = k < k1 ? roundHalfAway(w[k * N + n] * inv) : 0;
        v = Math.min(hi, Math.max(lo, v)) + zero;
        if (bits === 8) packed[base + i] = v;
        else packed[base + (i >> 1)] |= i & 1 ? v << 4 : v;
      }
    }
  }
  return { packed, scales, blocks, blobSize };
}
