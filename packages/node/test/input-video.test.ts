/**
 * Video frame extraction with the system ffmpeg: the reference's OpenCV sampling (every
 * `max(1, int(video_fps / fps))`-th decoded frame, fps = avg_frame_rate like CAP_PROP_FPS).
 *
 * Needs ffmpeg + ffprobe on the PATH (or FFMPEG_PATH/FFPROBE_PATH). Without them the tests
 * are skipped with a message, except under CI, where they fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDa3Error } from '@da3js/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractVideoFrames, frameInterval, probeVideo, resolveFfmpeg, videoFrames } from '../src/input/index.js';

const tools = resolveFfmpeg();
const HAVE_FFMPEG = [tools.ffmpeg, tools.ffprobe].every((t) => spawnSync(t, ['-version'], { stdio: 'ignore' }).status === 0);
const MISSING = `ffmpeg/ffprobe not found (${tools.ffmpeg}, ${tools.ffprobe}): install ffmpeg (apt-get install ffmpeg) or set FFMPEG_PATH/FFPROBE_PATH`;

if (!HAVE_FFMPEG && process.env.CI) {
  describe('video input', () => {
    it('needs ffmpeg under CI', () => {
      throw new Error(MISSING);
    });
  });
} else if (!HAVE_FFMPEG) {
  console.warn(`input-video.test.ts: skipped, ${MISSING}`);
}

let dir: string;
const v = (name: string) => join(dir, name);
function ffmpeg(args: string[], input?: Buffer): void {
  const r = spawnSync(tools.ffmpeg, ['-nostdin', '-v', 'error', '-y', ...args], { input, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr}`);
}

async function rejects(promise: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isDa3Error(e), `expected a Da3Error ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
  if (re) expect((e as Error).message).toMatch(re);
}

describe.skipIf(!HAVE_FFMPEG)('video input (ffmpeg)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'da3-input-video-'));
    // The brief's clip: 20 frames of testsrc at 10 fps, H.264 yuv420p.
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-t', '2', '-pix_fmt', 'yuv420p', v('test.mp4')]);
    // 20 flat grey frames, frame i = 12·i, stored losslessly (PNG in Matroska), to read indices back.
    const raw = Buffer.alloc(20 * 8 * 6 * 3);
    for (let i = 0; i < 20; i++) raw.fill(12 * i, i * 144, (i + 1) * 144);
    ffmpeg(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '8x6', '-r', '10', '-i', 'pipe:0', '-c:v', 'png', v('ramp.mkv')], raw);
    // Variable frame rate: 30 frames at 30 fps, then every 3rd (r_frame_rate 30, avg_frame_rate 300/19).
    ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=30', '-t', '4',
      '-vf', 'select=lt(n\\,30)+not(mod(n\\,3))', '-vsync', 'vfr', '-pix_fmt', 'yuv420p', v('vfr.mp4'),
    ]);
    // A 90° display rotation (OpenCV and ffmpeg both auto-rotate: 48×64 frames).
    ffmpeg(['-i', v('test.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', v('rot.mp4')]);
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.5', v('audio.wav')]);
    writeFileSync(v('text.mp4'), 'not a video\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('frameInterval is max(1, int(video_fps / fps))', () => {
    expect(frameInterval(10, 2)).toBe(5);
    expect(frameInterval(10, 3)).toBe(3);
    expect(frameInterval(30000 / 1001, 1)).toBe(29);
    expect(frameInterval(10, 25)).toBe(1);
  });

  it('testsrc 10 fps, fps=2 → every 5th frame: 4 frames of 64×48 RGB', async () => {
    const info = await probeVideo(v('test.mp4'));
    expect(info).toMatchObject({ width: 64, height: 48, fps: 10, frameCount: 20, codec: 'h264', rotation: 0 });
    const seen: unknown[] = [];
    const frames = await extractVideoFrames(v('test.mp4'), { fps: 2, onSampling: (s) => seen.push(s) });
    expect(seen).toEqual([{ info, fps: 2, interval: 5, sampledFps: 2 }]);
    expect(frames.map((f) => f.index)).toEqual([0, 5, 10, 15]);
    for (const f of frames) {
      expect([f.width, f.height, f.channels, f.data.length]).toEqual([64, 48, 3, 64 * 48 * 3]);
    }
    // Distinct frames (testsrc's counter and sweep move every frame).
    expect(Buffer.compare(Buffer.from(frames[0].data), Buffer.from(frames[1].data))).not.toBe(0);
  });

  it('the kept frames are exactly frames 0, k, 2k, … (read back from their content)', async () => {
    const grey = (f: { data: Uint8Array }) => f.data[0];
    const at = async (fps: number, maxFrames?: number) => (await extractVideoFrames(v('ramp.mkv'), { fps, maxFrames })).map((f) => [f.index, grey(f)]);
    expect(await at(2)).toEqual([0, 5, 10, 15].map((i) => [i, 12 * i]));
    expect(await at(3)).toEqual([0, 3, 6, 9, 12, 15, 18].map((i) => [i, 12 * i]));
    expect(await at(1)).toEqual([
      [0, 0],
      [10, 120],
    ]);
    // Asking for more than the video's rate keeps every frame (the reference warns and does so).
    expect(await at(25)).toEqual(Array.from({ length: 20 }, (_, i) => [i, 12 * i]));
    expect(await at(2, 2)).toEqual([
      [0, 0],
      [5, 60],
    ]);
  });

  it('VFR: fps is avg_frame_rate (as OpenCV reports) and no frame is duplicated or dropped', async () => {
    const info = await probeVideo(v('vfr.mp4'));
    expect(info.fps).toBeCloseTo(300 / 19, 12);
    expect(info.frameCount).toBe(60);
    // OpenCV 4.6 reads 60 frames here; interval int(15.789/1) = 15 → frames 0, 15, 30, 45.
    const frames = await extractVideoFrames(v('vfr.mp4'), { fps: 1 });
    expect(frames.map((f) => f.index)).toEqual([0, 15, 30, 45]);
    expect((await extractVideoFrames(v('vfr.mp4'), { fps: 100 })).length).toBe(60);
  });

  it('display rotation is applied like OpenCV (frames 48×64)', async () => {
    const info = await probeVideo(v('rot.mp4'));
    expect([info.width, info.height, Math.abs(info.rotation)]).toEqual([48, 64, 90]);
    const frames = await extractVideoFrames(v('rot.mp4'), { fps: 2 });
    expect(frames.map((f) => [f.width, f.height, f.data.length])).toEqual(Array(4).fill([48, 64, 48 * 64 * 3]));
  });

  it('streams frames; stopping early ends ffmpeg', async () => {
    const got: number[] = [];
    for await (const f of videoFrames(v('test.mp4'), { fps: 10 })) {
      got.push(f.index);
      if (got.length === 3) break;
    }
    expect(got).toEqual([0, 1, 2]);
  });

  it('falls back to -vsync passthrough for ffmpeg builds older than 5.1 (no -fps_mode)', async () => {
    const real = spawnSync('sh', ['-c', `command -v "${tools.ffmpeg}"`], { encoding: 'utf8' }).stdout.trim() || tools.ffmpeg;
    const old = v('old-ffmpeg');
    writeFileSync(
      old,
      `#!/bin/sh\nfor a in "$@"; do [ "$a" = "-fps_mode" ] && { echo "Unrecognized option 'fps_mode'." >&2; exit 1; }; done\nexec "${real}" "$@"\n`,
      { mode: 0o755 },
    );
    const frames = await extractVideoFrames(v('ramp.mkv'), { fps: 2, ffmpegPath: old, ffprobePath: tools.ffprobe });
    expect(frames.map((f) => [f.index, f.data[0]])).toEqual([0, 5, 10, 15].map((i) => [i, 12 * i]));
  });

  it('missing ffmpeg → BAD_CONFIG with the install hint', async () => {
    await rejects(
      extractVideoFrames(v('test.mp4'), { ffmpegPath: join(dir, 'no', 'ffmpeg') }),
      'BAD_CONFIG',
      /cannot run ffmpeg .*install ffmpeg: apt-get install ffmpeg, or set FFMPEG_PATH/,
    );
    await rejects(probeVideo(v('test.mp4'), { ffprobePath: join(dir, 'no', 'ffprobe') }), 'BAD_CONFIG', /cannot run ffprobe/);
  });

  it('not a video, no video stream, missing file, bad options → typed errors naming the file', async () => {
    await rejects(extractVideoFrames(v('text.mp4')), 'UNKNOWN_FORMAT', /text\.mp4' is not a video/);
    await rejects(extractVideoFrames(v('audio.wav')), 'UNKNOWN_FORMAT', /audio\.wav' has no video stream/);
    await rejects(extractVideoFrames(v('missing.mp4')), 'IO', /missing\.mp4': no such file/);
    await rejects(extractVideoFrames(dir), 'IO', /is not a file/);
    await rejects(extractVideoFrames(v('test.mp4'), { fps: 0 }), 'BAD_VALUE', /fps must be a positive number/);
    await rejects(extractVideoFrames(v('test.mp4'), { maxFrames: 0 }), 'BAD_VALUE', /maxFrames/);
  });

  it('abort kills ffmpeg and rejects with the signal’s reason', async () => {
    const ctrl = new AbortController();
    const it = videoFrames(v('test.mp4'), { fps: 10, signal: ctrl.signal });
    await it.next();
    ctrl.abort(new Error('stop'));
    await expect((async () => {
      for await (const _ of it) {
        // drain
      }
    })()).rejects.toThrow('stop');
  });
});
