/**
 * Loop-closure bookkeeping of DA3-Streaming, and loop *detection* from per-frame descriptors.
 *
 * From the reference (`da3_streaming/loop_utils/sim3utils.py`, `da3_streaming.py`,
 * `loop_utils/loop_detector.py`): {@link findChunkIndex}, {@link getFrameRange},
 * {@link processLoopList} (frame pair → the two chunks and a window of frames around each),
 * {@link removeDuplicates}, and {@link findLoopClosures} — the retrieval step of the reference's
 * `LoopDetector` (inner-product top-k, similarity threshold, a minimum frame gap of 10, NMS) given
 * the descriptors.
 *
 * The reference computes those descriptors with SALAD (DINOv2 ViT-B/14 + SALAD aggregation, its
 * own `dino_salad.ckpt`). We do not ship SALAD (see docs/streaming-alignment.md: the checkpoint is a PyTorch
 * pickle that core cannot read, and SALAD is GPL-3.0). What is ours: {@link poolFrameDescriptors}
 * turns any per-frame features (e.g. DA3's own backbone tokens) into unit descriptors for
 * {@link findLoopClosures}; loop pairs can also simply be given by the user.
 */
import { Da3Error } from '../../errors.js';

/** A chunk's frame range `[start, end)` in the whole sequence. */
export type ChunkRange = readonly [start: number, end: number];

/** A loop pair resolved to chunks: the reference's `(chunk_idx1, range1, chunk_idx2, range2)`. */
export interface LoopChunkPair {
  /** Chunk of the first frame (0-based). */
  readonly chunkA: number;
  /** `[start, end)` frames around the first frame, inside chunk A. */
  readonly rangeA: ChunkRange;
  /** Chunk of the second frame. */
  readonly chunkB: number;
  /** `[start, end)` frames around the second frame, inside chunk B. */
  readonly rangeB: ChunkRange;
}

/** A detected loop: two frame indices (first > second, as the reference orders them) and their similarity. */
export interface LoopClosure {
  readonly frameA: number;
  readonly frameB: number;
  readonly similarity: number;
}

/** Options of {@link findLoopClosures} (the reference's `Loop.SALAD` block and `LoopDetector`). */
export interface LoopDetectionOptions {
  /** `similarity_threshold` (default 0.85): inner products above it are candidate loops. */
  similarityThreshold?: number;
  /** `top_k` (default 5) neighbours searched per frame (besides itself). */
  topK?: number;
  /** `use_nms` (default true). */
  useNms?: boolean;
  /** `nms_threshold` (default 25 frames). */
  nmsThreshold?: number;
  /** Pairs closer than this many frames are ignored (the reference's hard-coded `abs(i − j) > 10`; default 10). */
  minFrameGap?: number;
}

/**
 * The reference's `find_chunk_index(chunks, idx)`: the last chunk starting at or before `idx`
 * (chunks overlap, so the later chunk wins); throws OUT_OF_RANGE when none holds it.
 */
export function findChunkIndex(chunks: readonly ChunkRange[], idx: number): number {
  let pos = -1;
  // bisect_right on the starts
  let lo = 0, hi = chunks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (idx < chunks[mid][0]) hi = mid;
    else lo = mid + 1;
  }
  pos = lo - 1;
  if (pos < 0 || pos >= chunks.length) throw new Da3Error('OUT_OF_RANGE', `findChunkIndex: frame ${idx} is not in any chunk`);
  const [begin, end] = chunks[pos];
  if (idx < begin || idx > end) throw new Da3Error('OUT_OF_RANGE', `findChunkIndex: frame ${idx} is not in any chunk`);
  return pos;
}

/**
 * The reference's `get_frame_range(chunk, idx, half_window)`: `2·halfWindow` frames centred on
 * `idx`, shifted to stay inside the chunk (and cut to it).
 */
export function getFrameRange(chunk: ChunkRange, idx: number, halfWindow = 10): ChunkRange {
  const [begin, end] = chunk;
  const windowSize = 2 * halfWindow;
  if (idx - halfWindow < begin) return [begin, Math.min(end, begin + windowSize)];
  if (idx + halfWindow > end) return [Math.max(begin, end - windowSize), end];
  return [idx - halfWindow, idx + halfWindow];
}

/**
 * The reference's `process_loop_list(chunk_index, loop_list, half_window)`: each frame pair → its
 * chunks and frame windows; pairs with a frame outside every chunk are skipped, as in the reference.
 * `halfWindow` is `loop_chunk_size / 2` there (default config: 10).
 */
export function processLoopList(chunks: readonly ChunkRange[], loopList: readonly (readonly [number, number])[], halfWindow = 10): LoopChunkPair[] {
  const out: LoopChunkPair[] = [];
  for (const [a, b] of loopList) {
    try {
      const ca = findChunkIndex(chunks, a);
      const cb = findChunkIndex(chunks, b);
      out.push({ chunkA: ca, rangeA: getFrameRange(chunks[ca], a, halfWindow), chunkB: cb, rangeB: getFrameRange(chunks[cb], b, halfWindow) });
    } catch (e) {
      if (!(e instanceof Da3Error)) throw e;
    }
  }
  return out;
}

/**
 * `remove_duplicates` of `da3_streaming.py`: drops pairs within one chunk and keeps the first pair
 * of each (chunkA, chunkB).
 */
export function removeDuplicates(pairs: readonly LoopChunkPair[]): LoopChunkPair[] {
  const seen = new Set<string>();
  const out: LoopChunkPair[] = [];
  for (const p of pairs) {
    if (p.chunkA === p.chunkB) continue;
    const key = `${p.chunkA},${p.chunkB}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

/**
 * The retrieval of the reference's `LoopDetector.find_loop_closures`, on given descriptors:
 * `descriptors` is `[N, D]` row-major, one per frame in sequence order, compared by inner product
 * (pass unit vectors for cosine similarity, as SALAD's are). For each frame, its `topK` best
 * neighbours (after itself) with similarity > threshold and more than `minFrameGap` frames away
 * are candidate pairs; duplicates are merged, the rest sorted by similarity (descending), then NMS
 * keeps a pair only if neither frame lies within `nmsThreshold` frames of a frame of a kept pair
 * (the reference's suppression ranges). Each pair is returned with the later frame first.
 */
export function findLoopClosures(descriptors: ArrayLike<number>, dims: number, options: LoopDetectionOptions = {}): LoopClosure[] {
  const where = 'findLoopClosures';
  if (!Number.isInteger(dims) || dims <= 0) throw new Da3Error('BAD_VALUE', `${where}: dims must be a positive integer, got ${dims}`);
  if (descriptors.length % dims !== 0) throw new Da3Error('BAD_SHAPE', `${where}: ${descriptors.length} numbers is not N×${dims}`);
  for (let i = 0; i < descriptors.length; i++) if (!Number.isFinite(descriptors[i])) throw new Da3Error('NON_FINITE', `${where}: descriptors[${i}] is ${descriptors[i]}`);
  const threshold = options.similarityThreshold ?? 0.85;
  const topK = options.topK ?? 5;
  const useNms = options.useNms ?? true;
  const nms = options.nmsThreshold ?? 25;
  const gap = options.minFrameGap ?? 10;
  if (!Number.isInteger(topK) || topK < 0) throw new Da3Error('BAD_VALUE', `${where}: topK must be a non-negative integer, got ${topK}`);
  const n = descriptors.length / dims;

  const found = new Map<string, LoopClosure>();
  const sims = new Float64Array(n);
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let d = 0; d < dims; d++) s += descriptors[i * dims + d] * descriptors[j * dims + d];
      sims[j] = s;
    }
    order.length = 0;
    for (let j = 0; j < n; j++) order.push(j);
    // faiss IndexFlatIP search: best first; the first hit (normally the frame itself) is skipped.
    order.sort((a, b) => sims[b] - sims[a] || a - b);
    for (let r = 1; r <= Math.min(topK, n - 1); r++) {
      const j = order[r];
      if (sims[j] > threshold && Math.abs(i - j) > gap) {
        const a = Math.min(i, j), b = Math.max(i, j);
        const key = `${a},${b}`;
        if (!found.has(key)) found.set(key, { frameA: a, frameB: b, similarity: sims[j] });
      }
    }
  }
  let loops = [...found.values()].sort((p, q) => q.similarity - p.similarity || p.frameA - q.frameA || p.frameB - q.frameB);
  if (useNms && nms > 0 && loops.length > 0) loops = applyNms(loops, nms);
  return loops.map((l) => ({ frameA: Math.max(l.frameA, l.frameB), frameB: Math.min(l.frameA, l.frameB), similarity: l.similarity }));
}

/** The reference's `_apply_nms_filter` (pairs with frameA < frameB, sorted by similarity). */
function applyNms(loops: LoopClosure[], nms: number): LoopClosure[] {
  let maxFrame = 0;
  for (const l of loops) maxFrame = Math.max(maxFrame, l.frameA, l.frameB);
  const suppressed = new Set<number>();
  const kept: LoopClosure[] = [];
  for (const l of loops) {
    const i1 = l.frameA, i2 = l.frameB;
    if (suppressed.has(i1) || suppressed.has(i2)) continue;
    kept.push(l);
    for (let f = Math.max(0, i1 - nms); f < Math.min(i1 + nms + 1, i2); f++) suppressed.add(f);
    for (let f = Math.max(i1 + 1, i2 - nms); f < Math.min(i2 + nms + 1, maxFrame + 1); f++) suppressed.add(f);
  }
  return kept;
}

/**
 * Ours, not the reference's: per-frame global descriptors from per-frame feature tokens — the mean
 * over each frame's `tokens` vectors of `dims` channels, then L2-normalised — for
 * {@link findLoopClosures} when no SALAD descriptors are at hand (e.g. DA3's backbone tokens of
 * each frame, `[N, tokens, dims]`). Returns `[N, dims]` float32.
 */
export function poolFrameDescriptors(features: ArrayLike<number>, frames: number, tokens: number, dims: number): Float32Array {
  const where = 'poolFrameDescriptors';
  for (const [name, v] of [['frames', frames], ['tokens', tokens], ['dims', dims]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Da3Error('BAD_VALUE', `${where}: ${name} must be a positive integer, got ${v}`);
  }
  if (features.length !== frames * tokens * dims) {
    throw new Da3Error('BAD_SHAPE', `${where}: ${features.length} numbers for [${frames}, ${tokens}, ${dims}] (${frames * tokens * dims})`);
  }
  const out = new Float32Array(frames * dims);
  const acc = new Float64Array(dims);
  for (let f = 0; f < frames; f++) {
    acc.fill(0);
    for (let t = 0; t < tokens; t++) {
      const o = (f * tokens + t) * dims;
      for (let d = 0; d < dims; d++) {
        const v = features[o + d];
        if (!Number.isFinite(v)) throw new Da3Error('NON_FINITE', `${where}: features[${o + d}] is ${v}`);
        acc[d] += v;
      }
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += acc[d] * acc[d];
    norm = Math.sqrt(norm);
    if (!(norm > 0)) throw new Da3Error('DEGENERATE', `${where}: frame ${f}'s mean feature is zero`);
    for (let d = 0; d < dims; d++) out[f * dims + d] = acc[d] / norm;
  }
  return out;
}
