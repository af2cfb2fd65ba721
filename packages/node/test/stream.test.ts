import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageU8, type StreamProgress, StreamError, planChunks } from '@da3js/core';
import { readNpz } from '@da3js/exporters';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without types
import { cameraPath, renderView } from '../../../scripts/render-example-scene.mjs';
import { FIXTURES, REPO_ROOT } from '../../../test-utils/fixtures.js';
import { requireTool } from '../../../test-utils/tools.js';
import { DepthAnything3 } from '../src/model/depth-anything-3.js';
import { streamToDirectory } from '../src/stream/stream.js';
import { decodeImage } from '../src/input/index.js';

const work = mkdtempSync(join(tmpdir(), 'da3js-stream-'));
const cache = join(work, 'cache');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const N = 11;
const frames = join(work, 'frames');
const files = { configPath: join(FIXTURES, 'tiny', 'config.json'), weightsPath: join(FIXTURES, 'tiny', 'model.safetensors') };
const model = () => DepthAnything3.fromFiles(files, { cacheDir: cache }, (input, o) => decodeImage(input as never, o));
const OPTS = { chunkSize: 4, overlap: 2, processRes: 84 } as const;

beforeAll(async () => {
  mkdirSync(frames);
  const path = cameraPath(300) as { eye: number[]; target: number[] }[];
  for (let k = 0; k < N; k++) {
    const v = renderView(path[3 * k].eye, path[3 * k].target, 84, 56) as ImageU8;
    await sharp(Buffer.from(v.data), { raw: { width: 84, height: 56, channels: 3 } }).png().toFile(join(frames, `frame_${String(k).padStart(6, '0')}.png`));
  }
});

const paths = () => readdirSync(frames).sort().map((f) => join(frames, f));
const lines = (p: string) => readFileSync(p, 'utf8').trimEnd().split('\n');

describe('streamToDirectory (tiny model, rendered path)', () => {
  it('writes the reference outputs: camera files, per-chunk and combined point clouds, per-frame npz', async () => {
    const m = model();
    const dir = join(work, 'out-clean');
    try {
      const events: StreamProgress[] = [];
      const r = await streamToDirectory(m, paths(), { ...OPTS, dir, expectedFrames: N, onProgress: (e) => events.push(e) });
      const chunks = planChunks(N, 4, 2).length;
      expect(r).toMatchObject({ frames: N, chunks, resumedChunks: 0, width: 84, height: 56 });
      expect(events.filter((e) => e.stage === 'finished').map((e) => e.chunk)).toEqual([0, 1, 2, 3, 4]);
      expect(events.every((e) => e.chunksTotal === chunks)).toBe(true);
      const poses = lines(join(dir, 'camera_poses.txt'));
      expect(poses).toHaveLength(N);
      expect(poses.every((l) => l.split(' ').length === 16 && l.endsWith(' 0.0 0.0 0.0 1.0'))).toBe(true);
      // Frame 0 is the world origin: its camera→world is the identity (up to the network's first camera).
      const intr = lines(join(dir, 'intrinsic.txt'));
      expect(intr).toHaveLength(N);
      expect(intr.every((l) => /^\S+ \S+ \S+ \S+$/.test(l))).toBe(true);
      const camPly = lines(join(dir, 'camera_poses.ply'));
      expect(camPly.slice(0, 3)).toEqual(['ply', 'format ascii 1.0', `element vertex ${N}`]);
      expect(camPly.slice(10).every((l) => l.endsWith(' 255 0 0'))).toBe(true);
      // Point clouds: one per chunk and the combined one (binary, 15 bytes a point).
      const pcd = readdirSync(join(dir, 'pcd')).sort();
      expect(pcd).toEqual(['0_pcd.ply', '1_pcd.ply', '2_pcd.ply', '3_pcd.ply', '4_pcd.ply', 'combined_pcd.ply']);
      const count = (f: string) => Number(/element vertex (\d+)/.exec(readFileSync(join(dir, 'pcd', f), 'latin1'))![1]);
      const total = [0, 1, 2, 3, 4].reduce((n, k) => n + count(`${k}_pcd.ply`), 0);
      expect(total).toBeGreaterThan(0);
      expect(count('combined_pcd.ply')).toBe(total);
      const combined = readFileSync(join(dir, 'pcd', 'combined_pcd.ply'));
      expect(combined.length - combined.indexOf('end_header\n') - 11).toBe(15 * total);
      // Per-frame results: the reference's keys, conf − 1.
      const npz = readdirSync(join(dir, 'results_output'));
      expect(npz).toHaveLength(N);
      const f5 = readNpz(new Uint8Array(readFileSync(join(dir, 'results_output', 'frame_5.npz'))));
      expect(Object.keys(f5)).toEqual(['image', 'depth', 'conf', 'intrinsics']);
      expect(f5.depth.shape).toEqual([56, 84]);
      expect(Math.min(...(f5.conf.data as Float32Array))).toBeGreaterThanOrEqual(0);
      // The spilled tails are gone, the records stay (a rerun recomputes nothing).
      expect(readdirSync(join(dir, '.da3-stream')).filter((f) => f.endsWith('.tail'))).toEqual([]);
      const again: StreamProgress[] = [];
      const r2 = await streamToDirectory(m, paths(), { ...OPTS, dir, onProgress: (e) => again.push(e) });
      expect(r2.resumedChunks).toBe(chunks);
      expect(again.some((e) => e.stage === 'infer')).toBe(false);
      expect(lines(join(dir, 'camera_poses.txt'))).toEqual(poses);
    } finally {
      await m.dispose();
    }
  });

  it('keeps finished chunks when a frame fails to decode, and a rerun continues after them without recomputing', async () => {
    const m = model();
    const dir = join(work, 'out-crash');
    const broken = join(work, 'broken');
    mkdirSync(broken);
    for (const p of paths()) copyFileSync(p, join(broken, p.split('/').pop()!));
    writeFileSync(join(broken, 'frame_000007.png'), 'not a png');
    const list = () => readdirSync(broken).sort().map((f) => join(broken, f));
    try {
      const error = await streamToDirectory(m, list(), { ...OPTS, dir }).catch((e) => e);
      expect(error).toBeInstanceOf(StreamError);
      // Chunk 2 ([4, 8)) is the first to hold the bad frame: chunks 0–1 finished, frames 0–3 handed out.
      expect(error).toMatchObject({ code: 'UNKNOWN_FORMAT', chunksDone: 2, framesDone: 4 });
      expect(readdirSync(join(dir, 'results_output')).length).toBe(4);
      expect(existsSync(join(dir, 'camera_poses.txt'))).toBe(false);
      copyFileSync(join(frames, 'frame_000007.png'), join(broken, 'frame_000007.png'));
      const events: StreamProgress[] = [];
      const r = await streamToDirectory(m, list(), { ...OPTS, dir, onProgress: (e) => events.push(e) });
      expect(r.resumedChunks).toBe(2);
      expect(events.filter((e) => e.stage === 'infer').map((e) => e.chunk)).toEqual([2, 3, 4]);
      // The same outputs as a run that never crashed.
      const clean = join(work, 'out-clean');
      for (const f of ['camera_poses.txt', 'intrinsic.txt', 'camera_poses.ply', 'pcd/combined_pcd.ply', 'results_output/frame_9.npz']) {
        expect(readFileSync(join(dir, f)).equals(readFileSync(join(clean, f))), f).toBe(true);
      }
    } finally {
      await m.dispose();
    }
  });

  it('refuses to mix a state started with other settings (BAD_CONFIG) unless restarted; overlap ≥ chunk is BAD_VALUE', async () => {
    const m = model();
    const dir = join(work, 'out-clean');
    try {
      await expect(streamToDirectory(m, paths(), { ...OPTS, chunkSize: 5, dir })).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/chunkSize 4 → 5.*--restart/) });
      const r = await streamToDirectory(m, paths().slice(0, 5), { ...OPTS, chunkSize: 5, dir: join(work, 'out-restart'), restart: true });
      expect(r).toMatchObject({ frames: 5, chunks: 1, resumedChunks: 0 });
      await expect(streamToDirectory(m, paths(), { ...OPTS, overlap: 4, dir: join(work, 'out-bad') })).rejects.toMatchObject({ code: 'BAD_VALUE' });
    } finally {
      await m.dispose();
    }
  });
});

const tools = { ffmpeg: process.env.FFMPEG_PATH ?? 'ffmpeg', ffprobe: process.env.FFPROBE_PATH ?? 'ffprobe' };
const HAVE_FFMPEG = [tools.ffmpeg, tools.ffprobe].every((t) => spawnSync(t, ['-version'], { stdio: 'ignore' }).status === 0);
const MISSING = 'ffmpeg/ffprobe not found: install ffmpeg (apt-get install ffmpeg) or set FFMPEG_PATH/FFPROBE_PATH';

const BIN = join(REPO_ROOT, 'packages/node/dist/cli/bin.js');
function da3(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, DA3_CACHE: cache, HF_HUB_OFFLINE: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('da3 stream', () => {
  it('streams a folder (--json), continues a finished run without recomputing, and refuses overlap ≥ chunk', () => {
    const out = join(work, 'cli-folder');
    const r = da3('stream', frames, '--model-dir', join(FIXTURES, 'tiny'), '--chunk-size', '4', '--overlap', '2', '--process-res', '84', '--export-dir', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ command: 'stream', kind: 'images', frames: N, chunks: 5, resumedChunks: 0, width: 84, height: 56 });
    expect(lines(join(out, 'camera_poses.txt'))).toHaveLength(N);
    const again = da3('stream', frames, '--model-dir', join(FIXTURES, 'tiny'), '--chunk-size', '4', '--overlap', '2', '--process-res', '84', '--export-dir', out);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/finished earlier, kept/);
    // Other settings on the same folder are refused, naming what changed.
    const other = da3('stream', frames, '--model-dir', join(FIXTURES, 'tiny'), '--chunk-size', '5', '--overlap', '2', '--process-res', '84', '--export-dir', out);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/chunkSize 4 → 5.*--restart/);
    const bad = da3('stream', frames, '--chunk-size', '4', '--overlap', '4');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--overlap \(4\) must be less than --chunk-size \(4\)/);
  });

  it('Ctrl-C keeps the finished chunks (exit 130, says how to continue); the same command continues after them', async () => {
    const out = join(work, 'cli-sigint');
    const args = [BIN, 'stream', frames, '--model-dir', join(FIXTURES, 'tiny'), '--chunk-size', '2', '--overlap', '1', '--process-res', '84', '--export-dir', out];
    const child = spawn(process.execPath, args, { env: { ...process.env, DA3_CACHE: cache, HF_HUB_OFFLINE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/chunk 2\/10 done/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise((ok) => child.on('exit', ok));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/da3: stopped\nda3: \d+ finished chunk\(s\) \(\d+ frames\) are kept in .*cli-sigint; run the same command again to continue/);
    const kept = Number(/da3: (\d+) finished chunk/.exec(stderr)![1]);
    expect(kept).toBeGreaterThanOrEqual(2);
    const again = spawnSync(process.execPath, [...args, '--json'], { encoding: 'utf8', env: { ...process.env, DA3_CACHE: cache, HF_HUB_OFFLINE: '1' } });
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ frames: N, chunks: 10, resumedChunks: kept });
    expect(lines(join(out, 'camera_poses.txt'))).toHaveLength(N);
  });

  it('a video that ends early: the frames that came are finished and written, then a typed error', async (ctx) => {
    if (!requireTool(ctx, HAVE_FFMPEG, MISSING)) return;
    const video = join(work, 'path.mp4');
    const ff = spawnSync(tools.ffmpeg, ['-nostdin', '-v', 'error', '-y', '-framerate', '10', '-i', join(frames, 'frame_%06d.png'), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', video]);
    expect(ff.status, String(ff.stderr)).toBe(0);
    const out = join(work, 'cli-video');
    const whole = da3('stream', video, '--model-dir', join(FIXTURES, 'tiny'), '--fps', '10', '--chunk-size', '4', '--overlap', '2', '--process-res', '84', '--export-dir', out, '--json');
    expect(whole.code, whole.stderr).toBe(0);
    expect(JSON.parse(whole.stdout)).toMatchObject({ kind: 'video', frames: N });
    // Cut the file: its header still says 11 frames.
    const cut = join(work, 'cut.mp4');
    copyFileSync(video, cut);
    truncateSync(cut, Math.floor(readFileSync(video).length * 0.6));
    const short = join(work, 'cli-cut');
    const r = da3('stream', cut, '--model-dir', join(FIXTURES, 'tiny'), '--fps', '10', '--chunk-size', '4', '--overlap', '2', '--process-res', '84', '--export-dir', short);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/da3: error: .*(ended after \d+ of 11 expected frames|could not be read)/);
    if (/ended after/.test(r.stderr)) {
      const got = Number(/ended after (\d+)/.exec(r.stderr)![1]);
      expect(lines(join(short, 'camera_poses.txt'))).toHaveLength(got);
      expect(r.stderr).toMatch(new RegExp(`the outputs of the ${got} frames that came were written to`));
    }
  });
});
