/**
 * Golden files for the C# core's tests, written fresh by every test run (never committed): the
 * tiny fixture model (any-view, `fixtures/tiny`) and the tiny GIANT-style model with a GS head
 * (`fixtures/tiny-giant`) run on their fixture inputs with @da3js/node, then every format the
 * Unity importer reads is written by @da3js/exporters, beside a `truth/` dump of the raw
 * prediction (little-endian float32 / uint8 files + manifest.json) that the C# tests compare with.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Prediction, Sink } from '@da3js/core';
import { gaussianPruneIndices, glbConfidenceThreshold, plyConfidenceThreshold, writeColmap, writePly } from '@da3js/exporters';
import { DepthAnything3 } from '@da3js/node';
import sharp from 'sharp';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';

/** A sink that collects a file's bytes and writes it on close. */
function fileSink(path: string): Sink {
  const chunks: Uint8Array[] = [];
  return {
    write: (c: Uint8Array) => void chunks.push(c.slice()),
    close: () => writeFileSync(path, Buffer.concat(chunks)),
  } as Sink;
}

function dumpF32(path: string, a: ArrayLike<number>): void {
  writeFileSync(path, Buffer.from(Float32Array.from(a).buffer));
}

/** PNG bytes of the fixture case's input views (`image_u8` [S, H, W, 3]). */
async function fixturePngs(model: string, kase: string): Promise<{ pngs: Buffer[]; width: number; height: number }> {
  const inputs = await loadTensors(`${model}/${kase}/inputs.safetensors`);
  const [S, H, W] = inputs.image_u8.shape;
  const data = inputs.image_u8.data as Uint8Array;
  const pngs = await Promise.all(
    Array.from({ length: S }, (_, s) => sharp(Buffer.from(data.subarray(s * H * W * 3, (s + 1) * H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()),
  );
  return { pngs, width: W, height: H };
}

function dumpPrediction(dir: string, p: Prediction): Record<string, unknown> {
  mkdirSync(dir, { recursive: true });
  dumpF32(join(dir, 'depth.f32'), p.depth);
  if (p.conf) dumpF32(join(dir, 'conf.f32'), p.conf);
  if (p.extrinsics) dumpF32(join(dir, 'extrinsics.f32'), p.extrinsics);
  if (p.intrinsics) dumpF32(join(dir, 'intrinsics.f32'), p.intrinsics);
  writeFileSync(join(dir, 'images.u8'), p.processedImages);
  const meta: Record<string, unknown> = { views: p.views, height: p.height, width: p.width };
  if (p.gaussians) {
    const g = p.gaussians;
    dumpF32(join(dir, 'gs_means.f32'), g.means);
    dumpF32(join(dir, 'gs_scales.f32'), g.scales);
    dumpF32(join(dir, 'gs_rotations_xyzw.f32'), g.rotations);
    dumpF32(join(dir, 'gs_harmonics.f32'), g.harmonics);
    dumpF32(join(dir, 'gs_opacities.f32'), g.opacities);
    meta.gaussians = { count: g.count, shCoefficients: g.shCoefficients };
  }
  return meta;
}

/** What {@link writeGoldens} wrote (relative paths under its folder) and how long it took. */
export interface GoldenReport {
  /** The any-view inputs as PNG files (`images/0000.png` …), for the job-service round trip. */
  images: string;
  anyview: { dir: string; files: string[]; points: number };
  gs: { dir: string; files: string[]; gaussians: number };
  seconds: number;
}

/**
 * Runs both tiny models and writes into `root`:
 * - `anyview/`: `scene.glb`, `scene.ply` (binary), `scene_ascii.ply`, `exports/mini_npz/results.npz`,
 *   `exports/npz/results.npz`, `sparse/*.bin` (COLMAP binary), `sparse_text/*.txt`, `depth_vis/…`;
 * - `gs/`: `gs_ply/0000.ply` (the reference's pruned SH0 file, 17 floats) and `gs_ply/0000_sh3.ply`
 *   (every Gaussian, SH3, 62 floats), `scene.glb`;
 * - `truth/anyview`, `truth/gs`: the predictions as raw arrays + `manifest.json`.
 */
export async function writeGoldens(root: string, cacheDir: string): Promise<GoldenReport> {
  const t0 = performance.now();
  const manifest: Record<string, unknown> = {};

  // Any-view tiny model on the fixture's three 84×56 views.
  const tiny = await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny'), { cacheDir });
  const a = await fixturePngs('tiny', 'multi');
  const images = join(root, 'images');
  mkdirSync(images, { recursive: true });
  for (const [i, png] of a.pngs.entries()) writeFileSync(join(images, `${String(i).padStart(4, '0')}.png`), png);
  const pred = await tiny.inference(a.pngs.map((b) => new Uint8Array(b)), { processRes: Math.max(a.width, a.height) });
  await tiny.dispose();
  const anyDir = join(root, 'anyview');
  const names = a.pngs.map((_, i) => `${String(i).padStart(4, '0')}.png`);
  const files = await pred.export({ dir: anyDir, formats: 'glb-ply-mini_npz-npz-colmap', imageNames: names });
  mkdirSync(join(anyDir, 'sparse_text'), { recursive: true });
  const colmapText = await writeColmap(pred, (n) => fileSink(join(anyDir, 'sparse_text', n)), { format: 'text', imageNames: names });
  const ascii = await writePly(pred, fileSink(join(anyDir, 'scene_ascii.ply')), { format: 'ascii' });
  const truthAny = dumpPrediction(join(root, 'truth', 'anyview'), pred);
  truthAny.glbThreshold = Math.fround(glbConfidenceThreshold(pred.conf!));
  truthAny.plyThreshold = Math.fround(plyConfidenceThreshold(pred.conf!, { percentile: 40 }));
  truthAny.colmapPoints = colmapText.points;
  truthAny.asciiPlyPoints = ascii.points;
  truthAny.imageNames = names;
  manifest.anyview = truthAny;

  // GIANT-style tiny model with a GS head: Gaussians (and a GLB of the same scene).
  const giant = await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny-giant'), { cacheDir });
  const g = await fixturePngs('tiny-giant', 'multi');
  const gpred = await giant.inference(g.pngs.map((b) => new Uint8Array(b)), { processRes: Math.max(g.width, g.height), inferGs: true });
  await giant.dispose();
  const gsDir = join(root, 'gs');
  const gsFiles = await gpred.export({ dir: gsDir, formats: 'gs_ply-gs_ply_sh3-gs_gltf-glb' });
  manifest.gs = dumpPrediction(join(root, 'truth', 'gs'), gpred);
  // gs_ply/0000.ply is the reference's pruned file: which Gaussian each of its vertices is.
  const kept = gaussianPruneIndices(gpred);
  writeFileSync(join(root, 'truth', 'gs', 'gs_ply_kept.u32'), Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength));
  writeFileSync(join(root, 'truth', 'manifest.json'), JSON.stringify(manifest, null, 1));
  return {
    images,
    anyview: { dir: anyDir, files: files.map((f) => f.slice(anyDir.length + 1)), points: ascii.points },
    gs: { dir: gsDir, files: gsFiles.map((f) => f.slice(gsDir.length + 1)), gaussians: gpred.gaussians?.count ?? 0 },
    seconds: (performance.now() - t0) / 1000,
  };
}
