/**
 * H.264 video writing with the system `ffmpeg` (the same one video input uses; see
 * `input/video.ts` for why not an npm binary): the `gs_video` encoder of `@da3js/node`.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AbortSignalLike, Da3Error, type Sink, throwIfAborted } from '@da3js/core';
import type { GsVideoEncodeSpec, GsVideoEncoder } from '@da3js/exporters';
import { INSTALL_HINT, resolveFfmpeg } from '../input/video.js';

/** Options of {@link ffmpegVideoEncoder}. */
export interface FfmpegVideoEncoderOptions {
  /** ffmpeg executable (default: `FFMPEG_PATH`, else `ffmpeg` on the PATH). */
  readonly ffmpegPath?: string;
  /**
   * ffmpeg is killed when it neither takes the next frame nor finishes for this long (ms,
   * default 120 000) — a hung encoder fails the export instead of hanging it.
   */
  readonly stallTimeoutMs?: number;
  /** Folder of the temporary video file (default: the OS temp folder); it is always removed. */
  readonly tempDir?: string;
}

/**
 * A {@link GsVideoEncoder} running `ffmpeg` like the reference's moviepy call: raw RGB24 frames on
 * stdin, `libx264` with the preset's crf and speed preset, `yuv420p`, the given fps, no audio, and
 * `+faststart` (the index first, for streaming). ffmpeg writes a temporary MP4 (an MP4's index is
 * written last, so it cannot stream into the sink), which is then copied into the sink and
 * removed. Aborting the signal or a stall kills ffmpeg; nothing is left behind.
 * @throws (from `encode`) Da3Error `BAD_CONFIG` when ffmpeg cannot be run (install hint), `IO` when
 *   it fails or stalls (its last error lines), `ABORTED`
 */
export function ffmpegVideoEncoder(options: FfmpegVideoEncoderOptions = {}): GsVideoEncoder {
  const stallMs = options.stallTimeoutMs ?? 120_000;
  return {
    container: 'mp4',
    encode: (frames, spec, sink, o) => encodeWithFfmpeg(frames, spec, sink, options, stallMs, o?.signal),
  };
}

async function encodeWithFfmpeg(frames: AsyncIterable<Uint8Array>, spec: GsVideoEncodeSpec, sink: Sink, options: FfmpegVideoEncoderOptions, stallMs: number, signal: AbortSignalLike | undefined): Promise<void> {
  const fn = 'gs_video (ffmpeg)';
  const { width, height, fps } = spec;
  if (!(Number.isInteger(width) && width > 0 && width % 2 === 0 && Number.isInteger(height) && height > 0 && height % 2 === 0)) {
    throw new Da3Error('BAD_VALUE', `${fn}: frame size must be positive even integers, got ${width}×${height}`);
  }
  throwIfAborted(signal, 'gs_video');
  const { ffmpeg } = resolveFfmpeg(options);
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'da3-video-'));
  const out = join(dir, 'video.mp4');
  const frameBytes = width * height * 3;
  const args = [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${width}x${height}`,
    '-r',
    String(fps),
    '-i',
    'pipe:0',
    '-an',
    '-c:v',
    'libx264',
    '-preset',
    spec.preset,
    '-crf',
    String(spec.crf),
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    '-y',
    `file:${out}`,
  ];
  const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-8192);
  });
  let failure: unknown;
  const kill = (why: unknown) => {
    failure ??= why;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const closed = new Promise<number | null>((res) => {
    child.once('error', (e) => {
      failure ??= e;
      res(null);
    });
    child.once('close', (code) => res(code));
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Armed only while waiting on ffmpeg (a frame to be taken, the file to be finished).
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => kill(new Da3Error('IO', `${fn}: ffmpeg made no progress for ${stallMs} ms; killed`)), stallMs);
  };
  const disarm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const onAbort = () => kill(signal?.reason ?? new Da3Error('ABORTED', 'gs_video: aborted'));
  const abortSignal = signal as AbortSignal | undefined;
  abortSignal?.addEventListener?.('abort', onAbort, { once: true });
  const stdin = child.stdin;
  stdin.on('error', () => {}); // EPIPE when ffmpeg exits early: reported from its exit status.
  const writeFrame = (frame: Uint8Array) =>
    new Promise<void>((res) => {
      if (stdin.write(frame)) res();
      else {
        const done = () => {
          stdin.off('drain', done);
          child.off('close', done);
          res();
        };
        stdin.once('drain', done);
        child.once('close', done);
      }
    });
  try {
    let count = 0;
    for await (const frame of frames) {
      if (failure !== undefined || child.exitCode !== null) break;
      if (frame.length !== frameBytes) throw new Da3Error('BAD_SHAPE', `${fn}: frame ${count} has ${frame.length} bytes, expected ${width}×${height}×3 = ${frameBytes}`);
      arm();
      await writeFrame(frame);
      disarm();
      count++;
    }
    arm();
    stdin.end();
    const code = await closed;
    disarm();
    throwIfAborted(signal, 'gs_video');
    if (failure !== undefined) {
      const errno = (failure as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT' || errno === 'EACCES') {
        throw new Da3Error('BAD_CONFIG', `${fn}: cannot run ffmpeg ('${ffmpeg}'): ${(failure as Error).message}; ${INSTALL_HINT}`, { cause: failure });
      }
      throw failure;
    }
    if (code !== 0) {
      const why = stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${code}`;
      throw new Da3Error('IO', `${fn}: ffmpeg could not encode the video (${why})`);
    }
    if (count !== spec.frames) throw new Da3Error('IO', `${fn}: ${count} frames were encoded, ${spec.frames} expected`);
    for await (const chunk of createReadStream(out, { highWaterMark: 1 << 20 })) {
      throwIfAborted(signal, 'gs_video');
      await sink.write(new Uint8Array((chunk as Buffer).buffer, (chunk as Buffer).byteOffset, (chunk as Buffer).byteLength));
    }
  } finally {
    disarm();
    abortSignal?.removeEventListener?.('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await closed;
    }
    await rm(dir, { recursive: true, force: true });
  }
}
