import { Da3Error } from '../errors.js';

/**
 * The reference's DA3-Streaming defaults (`da3_streaming/configs/base_config.yaml`): chunks of
 * 120 frames overlapping by 60, the point cloud subsampled to 1.5 % of the pixels whose
 * confidence − 1 is at least 0.75 × the chunk's mean, and seed 42 for that subsampling (the
 * reference draws from numpy's global generator; da3js seeds it per chunk, so a rerun and a
 * resumed run give the same cloud).
 */
export const STREAM_DEFAULTS = Object.freeze({
  chunkSize: 120,
  overlap: 60,
  sampleRatio: 0.015,
  confThresholdCoef: 0.75,
  seed: 42,
});

/** Frames `[start, end)` of chunk `index` (global frame indices). */
export interface StreamChunkRange {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Checks `chunkSize` and `overlap`: integers with `1 ≤ overlap < chunkSize` (the reference's
 * `[SETTING ERROR] Overlap must be less than chunk size`; an overlap of 0 leaves nothing to align
 * on).
 * @throws Da3Error `BAD_VALUE` naming the value
 */
export function checkChunking(chunkSize: number, overlap: number, fn = 'streamInference'): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 2) throw new Da3Error('BAD_VALUE', `${fn}: chunkSize must be an integer ≥ 2, got ${String(chunkSize)}`);
  if (!Number.isSafeInteger(overlap) || overlap < 1) throw new Da3Error('BAD_VALUE', `${fn}: overlap must be an integer ≥ 1 (the frames two chunks are aligned on), got ${String(overlap)}`);
  if (overlap >= chunkSize) throw new Da3Error('BAD_VALUE', `${fn}: overlap (${overlap}) must be less than chunkSize (${chunkSize})`);
}

/**
 * The chunks of a sequence of `frames` frames, the reference's `get_chunk_indices`: one chunk
 * when `frames ≤ chunkSize`, else `⌈(frames − overlap) / step⌉` chunks starting every
 * `step = chunkSize − overlap` frames, the last one cut at the end. `streamInference` does not
 * need the count in advance; it reaches the same plan as frames arrive.
 */
export function planChunks(frames: number, chunkSize: number, overlap: number): StreamChunkRange[] {
  checkChunking(chunkSize, overlap, 'planChunks');
  if (!Number.isSafeInteger(frames) || frames < 1) throw new Da3Error('BAD_VALUE', `planChunks: frames must be a positive integer, got ${String(frames)}`);
  if (frames <= chunkSize) return [{ index: 0, start: 0, end: frames }];
  const step = chunkSize - overlap;
  const count = Math.ceil((frames - overlap) / step);
  return Array.from({ length: count }, (_, index) => ({ index, start: index * step, end: Math.min(index * step + chunkSize, frames) }));
}

/**
 * The frames a chunk hands out, as the reference's `save_depth_conf_result` / `save_camera_poses`
 * assign them: every chunk from its first frame up to where the next chunk's overlap begins; the
 * last chunk to its end. Each frame is thus taken from the latest chunk that starts at or before it.
 */
export function ownedFrames(range: StreamChunkRange, last: boolean, overlap: number): { readonly start: number; readonly end: number } {
  return { start: range.start, end: last ? range.end : range.end - overlap };
}
