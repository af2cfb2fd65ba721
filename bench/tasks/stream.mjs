// node stream.mjs MODEL_DIR CACHE_DIR FRAMES CHUNK OVERLAP WIDTH HEIGHT THREADS — DA3-Streaming
// (@da3js/node streamToDirectory: per-frame npz, point clouds, camera files, spilled state) over
// FRAMES synthetic WIDTH×HEIGHT frames made on the fly (nothing kept), onnxruntime-node CPU.
// The graph must already be converted into CACHE_DIR (run.mjs warms it first), so peak RSS is
// the stream's own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DepthAnything3, streamToDirectory } from '@da3js/node';
import { peakRssMiB, report } from './common.mjs';

const [modelDir, cacheDir, frames, chunk, overlap, width, height, threads = '2'] = process.argv.slice(2);
const [N, C, O, W, H] = [frames, chunk, overlap, width, height].map(Number);

/** Deterministic frames: a gradient that drifts frame to frame, plus hashed noise. */
async function* synthetic() {
  for (let k = 0; k < N; k++) {
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = 3 * (y * W + x);
        const n = Math.imul(x * 73856093 ^ y * 19349663 ^ k * 83492791, 2654435761) >>> 24;
        data[i] = (x + 2 * k) & 255;
        data[i + 1] = (y + k) & 255;
        data[i + 2] = n;
      }
    }
    yield { data, width: W, height: H, channels: 3 };
  }
}

const out = mkdtempSync(join(tmpdir(), 'da3js-bench-stream-'));
const model = await DepthAnything3.fromPretrained(modelDir, { cacheDir, device: 'cpu', threads: Number(threads), localFilesOnly: true });
const chunkMs = [];
let last = performance.now();
const t0 = performance.now();
let rssAfterFirst = 0;
try {
  const result = await streamToDirectory(model, synthetic(), {
    dir: out,
    chunkSize: C,
    overlap: O,
    processRes: Math.max(W, H),
    onProgress: (e) => {
      if (e.stage !== 'finished') return;
      const now = performance.now();
      chunkMs.push(Math.round(now - last));
      last = now;
      if (chunkMs.length === 1) rssAfterFirst = peakRssMiB();
      // Progress on stderr (shown by run.mjs): the peak so far after each chunk.
      process.stderr.write(`stream ${N} frames: chunk ${e.chunk} done (${e.framesDone} frames), ${chunkMs.at(-1)} ms, peak RSS ${peakRssMiB()} MiB\n`);
    },
  });
  const ms = performance.now() - t0;
  report({
    task: 'stream',
    runtime: 'node-cpu',
    frames: result.frames,
    chunks: result.chunks,
    chunkSize: C,
    overlap: O,
    width: result.width,
    height: result.height,
    threads: Number(threads),
    ms: Math.round(ms),
    msPerFrame: Math.round(ms / result.frames),
    medianChunkMs: [...chunkMs].sort((a, b) => a - b)[chunkMs.length >> 1],
    peakRssAfterFirstChunkMiB: rssAfterFirst,
    peakRssMiB: peakRssMiB(),
  });
} finally {
  await model.dispose();
  rmSync(out, { recursive: true, force: true });
}
