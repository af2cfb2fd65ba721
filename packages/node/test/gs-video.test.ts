/**
 * gs_video in Node: the ffmpeg encoder (H.264 MP4 that ffprobe reads back with the frame count,
 * size and 24 fps), exportToDirectory's defaults (core's CPU rasterizer + ffmpeg), and failures
 * that must leave nothing behind (ffmpeg missing, ffmpeg hanging, abort).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Gaussians, createPrediction, isDa3Error } from '@da3js/core';
import { GS_VIDEO_QUALITY, memorySink } from '@da3js/exporters';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadTensors } from '../../../test-utils/fixtures.js';
import { loadTestdataTensors } from '../../../test-utils/testdata.js';
import { requireTool } from '../../../test-utils/tools.js';
import { parseCliArgs } from '../src/cli/args.js';
import { exportToDirectory, ffmpegVideoEncoder, resolveFfmpeg } from '../src/index.js';

const work = mkdtempSync(join(tmpdir(), 'da3js-gsvideo-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tools = resolveFfmpeg();
const HAVE = [tools.ffmpeg, tools.ffprobe].every((t) => spawnSync(t, ['-version'], { stdio: 'ignore' }).status === 0);
const MISSING = 'ffmpeg/ffprobe not found: apt-get install ffmpeg, or set FFMPEG_PATH/FFPROBE_PATH';

/** ffprobe's view of a video's first stream: frames counted by decoding, size, frame rate, codec, pixel format. */
function probe(path: string): { frames: number; width: number; height: number; fps: string; codec: string; pixFmt: string } {
  const out = execFileSync(tools.ffprobe, ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height,r_frame_rate,codec_name,pix_fmt', '-of', 'json', path], { encoding: 'utf8', timeout: 60_000 });
  const s = JSON.parse(out).streams[0];
  return { frames: Number(s.nb_read_frames), width: s.width, height: s.height, fps: s.r_frame_rate, codec: s.codec_name, pixFmt: s.pix_fmt };
}

/** A few coloured Gaussians in front of the giant3 fixture cameras. */
function scene(): Gaussians {
  const n = 64;
  const means = new Float32Array(n * 3);
  const harmonics = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    means.set([((i % 8) - 3.5) * 0.1, (Math.floor(i / 8) - 3.5) * 0.1, 1.5], i * 3);
    harmonics.set([(i % 3) - 1, ((i + 1) % 3) - 1, ((i + 2) % 3) - 1], i * 3);
  }
  const rotations = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) rotations[i * 4 + 3] = 1;
  return { count: n, means, scales: new Float32Array(n * 3).fill(0.05), rotations, harmonics, shCoefficients: 1, opacities: new Float32Array(n).fill(0.8) };
}

const T = await loadTestdataTensors('gs-video/goldens.safetensors');
function prediction() {
  const [views, h, w] = [3, 56, 42];
  return createPrediction({
    views,
    height: h,
    width: w,
    depth: new Float32Array(views * h * w),
    processedImages: new Uint8Array(views * h * w * 3),
    extrinsics: T['scene/giant3/extrinsics'].data as Float32Array,
    intrinsics: T['scene/giant3/intrinsics'].data as Float32Array,
    gaussians: scene(),
  });
}

describe('ffmpegVideoEncoder', () => {
  it('writes an H.264 yuv420p MP4 at 24 fps that ffprobe reads back frame for frame', async (ctx) => {
    if (!requireTool(ctx, HAVE, MISSING)) return;
    const sink = memorySink();
    const frames = (async function* () {
      for (let i = 0; i < 10; i++) yield new Uint8Array(32 * 16 * 3).fill(i * 20);
    })();
    await ffmpegVideoEncoder().encode(frames, { width: 32, height: 16, fps: 24, frames: 10, quality: 'low', ...GS_VIDEO_QUALITY.low }, sink);
    const file = join(work, 'enc.mp4');
    writeFileSync(file, sink.bytes());
    expect(probe(file)).toEqual({ frames: 10, width: 32, height: 16, fps: '24/1', codec: 'h264', pixFmt: 'yuv420p' });
  });

  it('ffmpeg missing: BAD_CONFIG with the install hint; hanging: killed after the stall timeout (IO); no temp file left', async () => {
    const temp = mkdtempSync(join(work, 'tmp-'));
    const frames = () =>
      (async function* () {
        for (let i = 0; i < 50; i++) yield new Uint8Array(64 * 64 * 3);
      })();
    const spec = { width: 64, height: 64, fps: 24, frames: 50, quality: 'high' as const, ...GS_VIDEO_QUALITY.high };
    const missing = await ffmpegVideoEncoder({ ffmpegPath: join(work, 'no-such-ffmpeg'), tempDir: temp })
      .encode(frames(), spec, memorySink())
      .catch((e) => e);
    expect(isDa3Error(missing, 'BAD_CONFIG')).toBe(true);
    expect(missing.message).toMatch(/apt-get install ffmpeg/);
    // A fake ffmpeg that never reads its input: the pipe fills, the stall timer kills it.
    const hang = join(work, 'hang.sh');
    writeFileSync(hang, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(hang, 0o755);
    const t0 = Date.now();
    const hung = await ffmpegVideoEncoder({ ffmpegPath: hang, tempDir: temp, stallTimeoutMs: 300 })
      .encode(frames(), spec, memorySink())
      .catch((e) => e);
    expect(isDa3Error(hung, 'IO')).toBe(true);
    expect(hung.message).toMatch(/no progress for 300 ms/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(readdirSync(temp)).toEqual([]);
  });
});

describe('exportToDirectory gs_video', () => {
  it('renders with the CPU rasterizer and encodes with ffmpeg: gs_video/0000_<mode>.mp4', async (ctx) => {
    if (!requireTool(ctx, HAVE, MISSING)) return;
    const dir = join(work, 'out');
    const events: string[] = [];
    const files = await exportToDirectory(prediction(), { dir, formats: 'gs_video', gsVideo: { trajectory: 'interpolate', quality: 'low', onProgress: (e) => events.push(`${e.stage}:${e.done}`) } });
    expect(files).toEqual([join(dir, 'gs_video/0000_interpolate.mp4')]);
    expect(probe(files[0])).toEqual({ frames: 47, width: 2 * 42 + 8, height: 56, fps: '24/1', codec: 'h264', pixFmt: 'yuv420p' });
    expect(events.at(-1)).toBe('encode:47');
    expect(readdirSync(dir)).toEqual(['gs_video']);
  });

  it('a failing encoder or an abort leaves the folder as it was (no partial video, no staging)', async () => {
    const dir = join(work, 'fail');
    const bad = await exportToDirectory(prediction(), { dir, formats: 'gs_gltf-gs_video', gsVideo: { trajectory: 'original', encoder: ffmpegVideoEncoder({ ffmpegPath: join(work, 'no-such-ffmpeg') }) } }).catch((e) => e);
    expect(isDa3Error(bad, 'BAD_CONFIG'), String(bad)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    const controller = new AbortController();
    const aborted = await exportToDirectory(prediction(), {
      dir,
      formats: 'gs_video',
      signal: controller.signal,
      gsVideo: { trajectory: 'extend', onProgress: (e) => e.done === 3 && controller.abort() },
    }).catch((e) => e);
    expect(isDa3Error(aborted, 'ABORTED')).toBe(true);
    expect(existsSync(join(dir, 'gs_video'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('da3 CLI gs_video options', () => {
  const parse = (...argv: string[]) => parseCliArgs(['images', 'in', ...argv]) as Exclude<ReturnType<typeof parseCliArgs>, string>;
  it('any gs* format adds gs_video (the reference\'s rule) and implies --infer-gs; --no-gs-video keeps it out', () => {
    expect(parse('--export-format', 'glb-gs_ply')).toMatchObject({ exportFormat: 'glb-gs_ply-gs_video', inferGs: true });
    expect(parse('--export-format', 'gs_gltf-gs_video').exportFormat).toBe('gs_gltf-gs_video');
    expect(parse('--export-format', 'gs_video')).toMatchObject({ exportFormat: 'gs_video', inferGs: true });
    expect(parse('--export-format', 'glb-spz').exportFormat).toBe('glb-spz');
    expect(parse('--export-format', 'gs_ply', '--no-gs-video').exportFormat).toBe('gs_ply');
    expect(parse('--export-format', 'glb').inferGs).toBe(false);
  });
  it('--gs-trajectory, --gs-video-quality and --render-hw are checked before any model loads', () => {
    expect(parse()).toMatchObject({ gsTrajectory: 'extend', gsVideoQuality: 'high', renderHw: undefined });
    expect(parse('--gs-trajectory', 'wobble_inter', '--gs-video-quality', 'low', '--render-hw', '120x160')).toMatchObject({ gsTrajectory: 'wobble_inter', gsVideoQuality: 'low', renderHw: { height: 120, width: 160 } });
    expect(() => parse('--gs-trajectory', 'spiral')).toThrow(/--gs-trajectory must be one of original, smooth/);
    expect(() => parse('--gs-video-quality', 'best')).toThrow(/--gs-video-quality/);
    for (const bad of ['120', '0x10', '12x', 'axb', '9000x10']) expect(() => parse('--render-hw', bad)).toThrow(/--render-hw must be <height>x<width>/);
  });
});

describe('da3 CLI gs_video (tiny-giant model)', () => {
  it('--export-format gs_ply adds gs_video like the reference: gs_video/0000_extend.mp4, 121 frames of 92×56 at 24 fps', async (ctx) => {
    if (!requireTool(ctx, HAVE, MISSING)) return;
    // The tiny-giant fixture's three 42×56 input images.
    const inputs = await loadTensors('tiny-giant/multi/inputs.safetensors');
    const [S, H, W] = inputs.image_u8.shape;
    const images = join(work, 'images');
    mkdirSync(images);
    for (let s = 0; s < S; s++) {
      const raw = Buffer.from((inputs.image_u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3));
      await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toFile(join(images, `${s}.png`));
    }
    const out = join(work, 'cli-out');
    const r = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'packages/node/dist/cli/bin.js'), 'images', images, '--model-dir', join(FIXTURES, 'tiny-giant'), '--process-res', '56', '--export-format', 'gs_ply', '--gs-video-quality', 'low', '--export-dir', out, '--json'],
      { encoding: 'utf8', timeout: 300_000, env: { ...process.env, DA3_CACHE: join(work, 'cache') } },
    );
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary.files).toEqual([join(out, 'gs_ply/0000.ply'), join(out, 'gs_video/0000_extend.mp4')]);
    // 3 views: 47 eased interpolated frames, smoothed; a 38-frame wander and a 36-frame dolly zoom at the middle.
    expect(probe(join(out, 'gs_video/0000_extend.mp4'))).toEqual({ frames: 121, width: 2 * W + 8, height: H, fps: '24/1', codec: 'h264', pixFmt: 'yuv420p' });
  }, 300_000);
});
