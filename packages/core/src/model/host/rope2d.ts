import { Da3Error } from '../../errors.js';

/**
 * 2D rotary position embedding of the DA3 backbone (layers/rope.py `RotaryPositionEmbedding2D`,
 * positions from vision_transformer.py `_prepare_rope`), on the host in float32.
 * The first half of each head's channels rotates with the y (row) position, the second half with
 * x (column); within a half, `out = t·cos + rotate_half(t)·sin` with `rotate_half([a, b]) = [−b, a]`
 * and inverse frequencies `frequency^(−2i/(d/2))`.
 */
const f = Math.fround;

/**
 * RoPE positions (y, x) of the `1 + gridH·gridW` tokens of one view: token 0 (cls/camera) is
 * (0, 0); patches are (row + 1, col + 1) for local layers, or all (1, 1) for global layers.
 * @returns Int32Array [1 + gridH·gridW, 2]
 */
export function ropePositions(gridH: number, gridW: number, global = false): Int32Array {
  const out = new Int32Array((1 + gridH * gridW) * 2);
  for (let r = 0; r < gridH; r++) {
    for (let c = 0; c < gridW; c++) {
      const i = 1 + r * gridW + c;
      out[i * 2] = global ? 1 : r + 1;
      out[i * 2 + 1] = global ? 1 : c + 1;
    }
  }
  return out;
}

/** cos/sin of one half (`dim` channels) for integer position `p`, float32 as the reference computes them. */
function tables(dim: number, frequency: number): (p: number) => { cos: Float32Array; sin: Float32Array } {
  const n = dim / 2;
  const invFreq = new Float32Array(n);
  for (let i = 0; i < n; i++) invFreq[i] = f(1 / f(frequency ** f((2 * i) / dim)));
  const cache = new Map<number, { cos: Float32Array; sin: Float32Array }>();
  return (p) => {
    let t = cache.get(p);
    if (!t) {
      const cos = new Float32Array(dim);
      const sin = new Float32Array(dim);
      for (let i = 0; i < n; i++) {
        const a = f(p * invFreq[i]);
        cos[i] = cos[i + n] = f(Math.cos(a));
        sin[i] = sin[i + n] = f(Math.sin(a));
      }
      t = { cos, sin };
      cache.set(p, t);
    }
    return t;
  };
}

/**
 * Applies 2D RoPE to `x` laid out `[..., tokens, headDim]` (any leading dims, e.g. batch × heads)
 * with per-token positions `[tokens, 2]` (y, x) shared by the leading dims, or
 * `[lead0, tokens, 2]` per leading-0 entry (as the reference's `(B, N, 2)` positions).
 * @returns a new Float32Array of the same layout
 */
export function applyRope2d(x: Float32Array, positions: Int32Array, tokens: number, headDim: number, frequency = 100): Float32Array {
  if (headDim % 4 !== 0) throw new Da3Error('BAD_SHAPE', `applyRope2d: headDim ${headDim} must be a multiple of 4`);
  const per = tokens * headDim;
  if (x.length % per !== 0) throw new Da3Error('BAD_SHAPE', `applyRope2d: ${x.length} values is not a multiple of tokens × headDim = ${per}`);
  const blocks = x.length / per;
  const posSets = positions.length / (tokens * 2);
  if (!Number.isInteger(posSets) || posSets < 1 || blocks % posSets !== 0) {
    throw new Da3Error('BAD_SHAPE', `applyRope2d: positions of length ${positions.length} do not match ${tokens} tokens`);
  }
  const half = headDim / 2;
  const q = half / 2;
  const table = tables(half, frequency);
  const out = new Float32Array(x.length);
  const blocksPerSet = blocks / posSets;
  for (let b = 0; b < blocks; b++) {
    const set = Math.floor(b / blocksPerSet);
    for (let t = 0; t < tokens; t++) {
      const base = (b * tokens + t) * headDim;
      const pi = (set * tokens + t) * 2;
      for (let axis = 0; axis < 2; axis++) {
        const { cos, sin } = table(positions[pi + axis]);
        const o = base + axis * half;
        for (let i = 0; i < half; i++) {
          const rot = i < q ? -x[o + i + q] : x[o + i - q];
          out[o + i] = f(f(x[o + i] * cos[i]) + f(rot * sin[i]));
        }
      }
    }
  }
  return out;
}
