/**
 * A 1,000,000-point scene.glb from a synthetic 4 × 512 × 512 prediction (1,048,576 pixels, ~2 %
 * dropped by confidence, the rest subsampled to numMaxPoints = 1,000,000): gltf-validator reads
 * the whole file with 0 errors / 0 warnings; sizes and the streamed chunking are checked.
 */
import { type Prediction, createPrediction } from '@da3js/core';
import validator from 'gltf-validator';
import { describe, expect, it } from 'vitest';
import { writeGlb } from '../src/glb/index.js';
import { memorySink } from '../src/writer.js';

function syntheticPrediction(views: number, size: number): Prediction {
  const H = size;
  const W = size;
  const HW = H * W;
  const depth = new Float32Array(views * HW);
  const conf = new Float32Array(views * HW);
  const rgb = new Uint8Array(views * HW * 3);
  const ext = new Float32Array(views * 12);
  const K = new Float32Array(views * 9);
  for (let v = 0; v < views; v++) {
    // cameras on a circle of radius 3 around the origin, looking at it (w2c = [R | −R c])
    const a = (2 * Math.PI * v) / views;
    const c = [3 * Math.sin(a), 0.3, -3 * Math.cos(a)];
    const fwd = [-c[0], -c[1], -c[2]].map((x) => x / Math.hypot(...c));
    const right = [fwd[2], 0, -fwd[0]].map((x) => x / Math.hypot(fwd[2], fwd[0]));
    const down = [fwd[1] * right[2] - fwd[2] * right[1], fwd[2] * right[0] - fwd[0] * right[2], fwd[0] * right[1] - fwd[1] * right[0]];
    const R = [right, down, fwd];
    for (let r = 0; r < 3; r++) {
      for (let k = 0; k < 3; k++) ext[12 * v + 4 * r + k] = R[r][k];
      ext[12 * v + 4 * r + 3] = -(R[r][0] * c[0] + R[r][1] * c[1] + R[r][2] * c[2]);
    }
    K.set([400, 0, (W - 1) / 2, 0, 400, (H - 1) / 2, 0, 0, 1], 9 * v);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = v * HW + y * W + x;
        depth[p] = 2.5 + 0.4 * Math.sin(x / 37) * Math.cos(y / 53) + 0.1 * v;
        // P40 = P90 = 2 → threshold 2: the 2 % at 1.0 are dropped, the rest kept
        conf[p] = p % 50 === 0 ? 1.0 : 2;
        rgb[3 * p] = x & 255;
        rgb[3 * p + 1] = y & 255;
        rgb[3 * p + 2] = (v * 60) & 255;
      }
    }
  }
  return createPrediction({ views, height: H, width: W, depth, conf, extrinsics: ext, intrinsics: K, processedImages: rgb });
}

describe('writeGlb at 1,000,000 points', () => {
  it('writes a valid 1M-point GLB in streamed chunks', async () => {
    const p = syntheticPrediction(4, 512);
    const sink = memorySink();
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const report = await writeGlb(p, sink, { seed: 1 });
    const ms = performance.now() - t0;
    const rssAfter = process.memoryUsage().rss;
    expect(report.points).toBe(1_000_000);
    expect(report.keptPoints).toBeGreaterThan(1_000_000);
    expect(report.cameras).toBe(4);
    // Streamed: the BIN payload arrives in ~1 MiB chunks, none holding the whole file.
    expect(sink.chunks.length).toBeGreaterThan(10);
    expect(Math.max(...sink.chunks.map((c) => c.byteLength))).toBeLessThan(2 << 20);
    const bytes = sink.bytes();
    expect(bytes.byteLength).toBe(report.bytes);
    const jsonLength = new DataView(bytes.buffer).getUint32(12, true);
    expect(bytes.byteLength).toBe(12 + 8 + jsonLength + 8 + 1_000_000 * 16 + 4 * 16 * 16);
    const t1 = performance.now();
    const issues = (await validator.validateBytes(bytes)).issues;
    const vms = performance.now() - t1;
    expect(issues.numErrors, JSON.stringify(issues.messages.slice(0, 5))).toBe(0);
    expect(issues.numWarnings, JSON.stringify(issues.messages.slice(0, 5))).toBe(0);
    console.log(
      `1M-point GLB: ${bytes.byteLength} B, write ${ms.toFixed(0)} ms (rss ${((rssBefore) / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB), ` +
        `${sink.chunks.length} chunks, validator ${vms.toFixed(0)} ms: ${issues.numErrors} errors / ${issues.numWarnings} warnings / ${issues.numInfos} infos / ${issues.numHints} hints`,
    );
  }, 180_000);
});
