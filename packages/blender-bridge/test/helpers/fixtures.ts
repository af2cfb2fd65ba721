/**
 * The files the Blender tests import: the tiny model's fixture prediction (`fixtures/tiny/multi`,
 * 3 views of 84×56) written by `@da3js/exporters` exactly as `da3 … --export-dir` writes them
 * (scene.glb + depth_vis, npz, mini_npz, binary and ASCII point PLY), a 3DGS PLY of seeded
 * synthetic Gaussians, a few corrupt files, and the prediction's raw arrays (float32 little-endian
 * `.bin`) with a JSON index, so the Blender-side checks compare against the prediction itself, not
 * against what the add-on read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Gaussians, Prediction, Sink } from '@da3js/core';
import { exportPrediction, memorySink, writeGaussiansPly, writePly } from '@da3js/exporters';
import { fixturePrediction } from '../../../../test-utils/prediction.js';

/** A sink that writes `path` when closed. */
function fileSink(path: string): Sink {
  const mem = memorySink();
  return {
    write: (chunk: Uint8Array) => mem.write(chunk),
    close: () => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, mem.bytes());
    },
  };
}

/** Seeded synthetic Gaussians (SH degree 2), means spread over a 2-unit cube. */
export function syntheticGaussians(n = 2000): Gaussians {
  return {
    count: n,
    shCoefficients: 9,
    means: Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i * 1.7) * 2),
    scales: Float32Array.from({ length: 3 * n }, (_, i) => 0.01 + 0.01 * Math.abs(Math.cos(i))),
    rotations: Float32Array.from({ length: 4 * n }, (_, i) => (i % 4 === 3 ? 1 : 0.1 * Math.sin(i))),
    harmonics: Float32Array.from({ length: 27 * n }, (_, i) => 0.5 * Math.sin(i * 0.37)),
    opacities: Float32Array.from({ length: n }, (_, i) => 0.5 + 0.4 * Math.sin(i)),
  };
}

/** What {@link writeImportFixtures} wrote. */
export interface ImportFixtures {
  readonly prediction: Prediction;
  readonly gaussians: Gaussians;
  /** The export folder (npz, mini_npz, glb + depth_vis, ply, gs_ply). */
  readonly exportDir: string;
  /** `expected.json`: the prediction's sizes and the paths of its raw arrays. */
  readonly expected: string;
  readonly files: Record<string, string>;
}

function writeBin(path: string, data: Float32Array | Uint8Array): string {
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return path;
}

/** Writes every fixture into `dir` (a temp folder). */
export async function writeImportFixtures(dir: string): Promise<ImportFixtures> {
  const prediction = await fixturePrediction('tiny', 'multi');
  const exportDir = join(dir, 'export');
  await exportPrediction(prediction, 'npz-mini_npz-glb-ply', (rel) => fileSink(join(exportDir, ...rel.split('/'))), { confThreshPercentile: 40 });
  const gaussians = syntheticGaussians();
  await writeGaussiansPly(gaussians, fileSink(join(exportDir, 'gs_ply', '0000_sh3.ply')), { layout: 'sh3' });
  const asciiPly = join(dir, 'scene-ascii.ply');
  await writePly(prediction, fileSink(asciiPly), { format: 'ascii' });
  const corrupt = join(dir, 'corrupt');
  mkdirSync(corrupt, { recursive: true });
  const files: Record<string, string> = {
    npz: join(exportDir, 'exports', 'npz', 'results.npz'),
    miniNpz: join(exportDir, 'exports', 'mini_npz', 'results.npz'),
    glb: join(exportDir, 'scene.glb'),
    ply: join(exportDir, 'scene.ply'),
    asciiPly,
    gsPly: join(exportDir, 'gs_ply', '0000_sh3.ply'),
    badNpz: join(corrupt, 'results.npz'),
    badGlb: join(corrupt, 'scene.glb'),
    badPly: join(corrupt, 'scene.ply'),
    emptyDir: join(dir, 'empty'),
  };
  writeFileSync(files.badNpz, 'PK\x03\x04 this is not a zip archive');
  writeFileSync(files.badGlb, Buffer.concat([Buffer.from('glTF'), Buffer.from([2, 0, 0, 0, 0, 16, 0, 0])]));
  writeFileSync(files.badPly, 'ply\nformat binary_little_endian 1.0\nelement vertex 1000\nproperty float x\nproperty float y\nproperty float z\nend_header\n\x00\x00');
  mkdirSync(files.emptyDir, { recursive: true });
  const raw = join(dir, 'raw');
  mkdirSync(raw, { recursive: true });
  const expected = join(dir, 'expected.json');
  writeFileSync(
    expected,
    JSON.stringify({
      views: prediction.views,
      width: prediction.width,
      height: prediction.height,
      isMetric: !!prediction.isMetric,
      intrinsics: Array.from(prediction.intrinsics!),
      extrinsics: Array.from(prediction.extrinsics!),
      depth: writeBin(join(raw, 'depth.f32'), prediction.depth),
      conf: writeBin(join(raw, 'conf.f32'), prediction.conf!),
      image: writeBin(join(raw, 'image.u8'), prediction.processedImages),
      gaussians: { count: gaussians.count, means: writeBin(join(raw, 'means.f32'), gaussians.means), opacities: writeBin(join(raw, 'opacities.f32'), gaussians.opacities) },
      files,
    }),
  );
  return { prediction, gaussians, exportDir, expected, files };
}
