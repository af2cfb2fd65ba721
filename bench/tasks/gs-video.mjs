// node gs-video.mjs TRAJECTORY QUALITY — one whole gs_video export of a DA3-size scene (one
// 504×336 view → 169,344 Gaussians, SH degree 2, see gs-scene.mjs) with @da3js/node's defaults:
// the worker-thread CPU rasterizer and the system ffmpeg (libx264). Two source views 0.2 apart
// (so `extend`/`interpolate` have a pair to interpolate); one view renders `wander`. Reports the
// frame count, render and encode time, file size and peak memory (the depth panel keeps every
// frame's colour bytes and depth until encoding).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrediction } from '@da3js/core';
import { exportToDirectory } from '@da3js/node';
import { peakRssMiB, report } from './common.mjs';
import { SOURCE, makeScene } from './gs-scene.mjs';

const [trajectory = 'extend', quality = 'high'] = process.argv.slice(2);
const { width: W, height: H, fx, fy, cx, cy } = SOURCE;
const views = 2;
const extrinsics = new Float32Array(views * 12);
const intrinsics = new Float32Array(views * 9);
for (let v = 0; v < views; v++) {
  extrinsics.set([1, 0, 0, -0.2 * v, 0, 1, 0, 0, 0, 0, 1, 0], v * 12);
  intrinsics.set([fx, 0, cx, 0, fy, cy, 0, 0, 1], v * 9);
}
const prediction = createPrediction({
  views,
  height: H,
  width: W,
  depth: new Float32Array(views * H * W),
  processedImages: new Uint8Array(views * H * W * 3),
  extrinsics,
  intrinsics,
  gaussians: makeScene(),
});
const dir = mkdtempSync(join(tmpdir(), 'da3js-bench-gsvideo-'));
try {
  const marks = { render: 0, encode: 0 };
  let frames = 0;
  const t0 = performance.now();
  const [file] = await exportToDirectory(prediction, {
    dir,
    formats: 'gs_video',
    gsVideo: {
      trajectory,
      quality,
      onProgress: (e) => {
        frames = e.total;
        if (e.done === e.total) marks[e.stage] = performance.now() - t0;
      },
    },
  });
  const total = performance.now() - t0;
  report({
    task: 'gs-video',
    runtime: 'node (worker-thread CPU rasterizer + ffmpeg libx264)',
    gaussians: prediction.gaussians.count,
    width: 2 * W + 8,
    height: H,
    trajectory,
    quality,
    frames,
    renderMs: Math.round(marks.render),
    renderMsPerFrame: +(marks.render / frames).toFixed(1),
    encodeMs: Math.round(total - marks.render),
    totalMs: Math.round(total),
    fileBytes: statSync(file).size,
    peakRssMiB: peakRssMiB(),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
