import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageU8, type StreamProgress, StreamError, cameraPosesLine, correctStreamPoints } from '@da3js/core';
import { readNpz } from '@da3js/exporters';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without types
import { cameraPath, renderView } from '../../../scripts/render-example-scene.mjs';
import { FIXTURES } from '../../../test-utils/fixtures.js';
import { parseCliArgs as parseArgs } from '../src/cli/args.js';
import { decodeImage } from '../src/input/index.js';
import { DepthAnything3 } from '../src/model/depth-anything-3.js';
import { streamToDirectory } from '../src/stream/stream.js';

const work = mkdtempSync(join(tmpdir(), 'da3js-stream-loops-'));
const cache = join(work, 'cache');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const N = 11;
const frames = join(work, 'frames');
const files = { configPath: join(FIXTURES, 'tiny', 'config.json'), weightsPath: join(FIXTURES, 'tiny', 'model.safetensors') };
const model = () => DepthAnything3.fromFiles(files, { cacheDir: cache }, (input, o) => decodeImage(input as never, o));
const OPTS = { chunkSize: 4, overlap: 2, processRes: 84 } as const;
const LOOPS = { pairs: [[10, 0]] as [number, number][], loopChunkSize: 2 };

beforeAll(async () => {
  mkdirSync(frames);
  // Out along the arc and back: frame 10 looks where frame 0 looked.
  const path = cameraPath(300) as { eye: number[]; target: number[] }[];
  for (let k = 0; k < N; k++) {
    const at = 12 * (k <= 5 ? k : 10 - k);
    const v = renderView(path[at].eye, path[at].target, 84, 56) as ImageU8;
    await sharp(Buffer.from(v.data), { raw: { width: 84, height: 56, channels: 3 } }).png().toFile(join(frames, `frame_${String(k).padStart(6, '0')}.png`));
  }
});

const paths = (dir = frames) => readdirSync(dir).sort().map((f) => join(dir, f));
const lines = (p: string) => readFileSync(p, 'utf8').trimEnd().split('\n');
function plyPoints(path: string) {
  const bytes = readFileSync(path);
  const count = Number(/element vertex (\d+)/.exec(bytes.toString('latin1', 0, 400))![1]);
  const at = bytes.indexOf('end_header\n') + 11;
  const positions = new Float32Array(3 * count);
  const colors = new Uint8Array(3 * count);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < 3; j++) {
      positions[3 * i + j] = bytes.readFloatLE(at + 15 * i + 4 * j);
      colors[3 * i + j] = bytes[at + 15 * i + 12 + j];
    }
  }
  return { count, positions, colors, confThreshold: 0, validPoints: count };
}

describe('streamToDirectory with loop closure (tiny model)', () => {
  it('re-writes the pose files, the point clouds and the per-frame depth with the corrected transforms', async () => {
    const m = model();
    const plain = join(work, 'plain');
    const looped = join(work, 'looped');
    try {
      await streamToDirectory(m, paths(), { ...OPTS, dir: plain });
      const events: StreamProgress[] = [];
      const r = await streamToDirectory(m, paths(), { ...OPTS, dir: looped, loopClosure: LOOPS, onProgress: (e) => events.push(e) });
      const loops = r.loopClosure!;
      expect(loops.loops.map((l) => [l.pair.chunkA, l.pair.chunkB])).toEqual([[4, 0]]);
      expect(events.filter((e) => e.stage === 'loop' || e.stage === 'optimize').map((e) => e.stage)).toEqual(['loop', 'optimize']);
      // The tiny random network's loop disagrees with its chain: the later chunks move.
      const moved = loops.corrections.map((c) => Math.abs(c.scale - 1) + Math.hypot(...c.translation));
      expect(moved[0]).toBe(0);
      expect(moved[4]).toBeGreaterThan(1e-3);
      // Poses: the loop result's corrected cameras, a line per frame.
      const poses = lines(join(looped, 'camera_poses.txt'));
      expect(poses).toEqual(Array.from({ length: N }, (_, i) => cameraPosesLine(loops.extrinsics.subarray(12 * i, 12 * i + 12))));
      expect(poses.slice(0, 2)).toEqual(lines(join(plain, 'camera_poses.txt')).slice(0, 2));
      expect(poses[10]).not.toEqual(lines(join(plain, 'camera_poses.txt'))[10]);
      expect(lines(join(looped, 'intrinsic.txt'))).toEqual(lines(join(plain, 'intrinsic.txt')));
      // Point clouds: each chunk's streamed cloud moved by its correction, exactly.
      for (let k = 0; k < 5; k++) {
        const want = correctStreamPoints(plyPoints(join(plain, 'pcd', `${k}_pcd.ply`)), loops.corrections[k]);
        const got = plyPoints(join(looped, 'pcd', `${k}_pcd.ply`));
        expect(got.positions).toEqual(want.positions);
        expect(got.colors).toEqual(want.colors);
      }
      expect(plyPoints(join(looped, 'pcd', 'combined_pcd.ply')).count).toBe(plyPoints(join(plain, 'pcd', 'combined_pcd.ply')).count);
      // Per-frame depth × its chunk's correction scale; the rest unchanged.
      for (const i of [0, 5, 10]) {
        const a = readNpz(new Uint8Array(readFileSync(join(plain, 'results_output', `frame_${i}.npz`))));
        const b = readNpz(new Uint8Array(readFileSync(join(looped, 'results_output', `frame_${i}.npz`))));
        const s = loops.corrections[loops.frameChunks[i]].scale;
        expect(b.depth.data).toEqual(Float32Array.from(a.depth.data as Float32Array, (d) => d * s));
        expect(b.conf.data).toEqual(a.conf.data);
        expect(b.image.data).toEqual(a.image.data);
      }
      // The state keeps the loop result and the applied mark; the uncorrected copies and windows are gone.
      const state = readdirSync(join(looped, '.da3-stream')).sort();
      expect(state).toContain('loops.json');
      expect(state).toContain('loops_applied');
      expect(state.filter((f) => /^(pcd|frames)$|\.(window|desc|tail)$/.test(f))).toEqual([]);
      // A rerun recomputes nothing (chunks resumed, loop result reused) and writes the same files.
      const again: StreamProgress[] = [];
      const before = readFileSync(join(looped, 'pcd', 'combined_pcd.ply'));
      const r2 = await streamToDirectory(m, paths(), { ...OPTS, dir: looped, loopClosure: LOOPS, onProgress: (e) => again.push(e) });
      expect(r2.resumedChunks).toBe(5);
      expect(again.some((e) => e.stage === 'infer' || e.stage === 'loop')).toBe(false);
      expect(lines(join(looped, 'camera_poses.txt'))).toEqual(poses);
      expect(readFileSync(join(looped, 'pcd', 'combined_pcd.ply')).equals(before)).toBe(true);
      // Other loop settings are another stream.
      const other = await streamToDirectory(m, paths(), { ...OPTS, dir: looped, loopClosure: { ...LOOPS, pairs: [[9, 1]] } }).catch((e) => e);
      expect(other).toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/loopClosure/) });
    } finally {
      await m.dispose();
    }
  });

  it('resumes after a crash without recomputing finished chunks, loop windows kept on disk, and ends with the same files', async () => {
    const m = model();
    const dir = join(work, 'crash');
    const broken = join(work, 'broken');
    mkdirSync(broken);
    for (const p of paths()) copyFileSync(p, join(broken, p.split('/').pop()!));
    writeFileSync(join(broken, 'frame_000007.png'), 'not a png');
    try {
      const error = await streamToDirectory(m, paths(broken), { ...OPTS, dir, loopClosure: LOOPS }).catch((e) => e);
      expect(error).toBeInstanceOf(StreamError);
      expect(error).toMatchObject({ code: 'UNKNOWN_FORMAT', chunksDone: 2 });
      // Chunk 0's loop window (frames [0, 2)) is on disk; nothing final was written yet.
      expect(readdirSync(join(dir, '.da3-stream')).filter((f) => f.startsWith('loop_'))).toEqual(['loop_0.window']);
      expect(existsSync(join(dir, 'results_output'))).toBe(false);
      copyFileSync(join(frames, 'frame_000007.png'), join(broken, 'frame_000007.png'));
      const events: StreamProgress[] = [];
      const r = await streamToDirectory(m, paths(broken), { ...OPTS, dir, loopClosure: LOOPS, onProgress: (e) => events.push(e) });
      expect(r.resumedChunks).toBe(2);
      expect(events.filter((e) => e.stage === 'infer').map((e) => e.chunk)).toEqual([2, 3, 4]);
      expect(events.filter((e) => e.stage === 'loop')).toHaveLength(1);
      const clean = join(work, 'looped');
      for (const f of ['camera_poses.txt', 'intrinsic.txt', 'camera_poses.ply', 'pcd/combined_pcd.ply', 'pcd/4_pcd.ply', 'results_output/frame_9.npz']) {
        expect(readFileSync(join(dir, f)).equals(readFileSync(join(clean, f))), f).toBe(true);
      }
    } finally {
      await m.dispose();
    }
  });

  it('detects loops on the model’s own features (layer before the reference-view choice) and refuses a later layer', async () => {
    const m = model();
    const dir = join(work, 'detect');
    try {
      const detect = { similarityThreshold: 0.5, minFrameGap: 4, nmsThreshold: 2 };
      const late = await streamToDirectory(m, paths(), { ...OPTS, dir, loopClosure: { detect: { ...detect, featureLayer: 1 }, loopChunkSize: 2 } }).catch((e) => e);
      // The tiny config chooses the reference view before block 1 (altStart 2 − 1).
      expect(late).toMatchObject({ code: 'BAD_VALUE', message: expect.stringMatching(/featureLayer 1 is at or after block 1/) });
      const r = await streamToDirectory(m, paths(), { ...OPTS, dir, saveDepthConf: false, loopClosure: { detect, loopChunkSize: 2 } });
      const loops = r.loopClosure!;
      expect(loops.detected.length).toBeGreaterThan(0);
      expect(loops.detected.every((d) => d.frameA - d.frameB > 4 && d.similarity > 0.5)).toBe(true);
      // The path comes back on itself: frames k and 10 − k are rendered from the same camera, and
      // those are what the pooled features find (similarity 1 up to rounding).
      expect(loops.detected.every((d) => d.frameA + d.frameB === 10 && d.similarity > 0.9999)).toBe(true);
      expect(loops.framePairs).toEqual(loops.detected.map((d) => [d.frameA, d.frameB]));
      expect(lines(join(dir, 'camera_poses.txt'))).toEqual(Array.from({ length: N }, (_, i) => cameraPosesLine(loops.extrinsics.subarray(12 * i, 12 * i + 12))));
      console.log(`detected on feat_0: ${loops.detected.map((d) => `${d.frameA}↔${d.frameB} (${d.similarity.toFixed(3)})`).join(', ')}; ${loops.loops.length} loop chunk(s)`);
    } finally {
      await m.dispose();
    }
  });

  it('parses the CLI flags (--loop-pairs, --loop-closure auto, --loop-chunk-size) and refuses bad ones', () => {
    const a = parseArgs(['stream', 'in', '--loop-pairs', '0:250, 10:260', '--loop-closure', 'auto', '--loop-chunk-size', '10', '--loop-similarity', '0.9']);
    expect(a).toMatchObject({ loopPairs: [[0, 250], [10, 260]], loopDetect: true, loopChunkSize: 10, loopSimilarity: 0.9 });
    expect(parseArgs(['stream', 'in'])).toMatchObject({ loopPairs: [], loopDetect: false, loopChunkSize: 20 });
    for (const bad of [['--loop-pairs', '0-250'], ['--loop-pairs', '3:3'], ['--loop-pairs', '1.5:2'], ['--loop-closure', 'salad'], ['--loop-chunk-size', '0']]) {
      expect(() => parseArgs(['stream', 'in', ...bad])).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
    }
  });
});
