/**
 * Video frame extraction with the system `ffmpeg`, reproducing the reference's
 * `VideoHandler.process` (OpenCV `VideoCapture`, every `max(1, int(video_fps / fps))`-th frame).
 *
 * Why the system ffmpeg (Debian's `apt-get install ffmpeg`) and not an npm-bundled binary:
 * `ffmpeg-static` downloads its binary from GitHub in an install script, which fails offline and
 * where install scripts are disabled; `@ffmpeg-installer/ffmpeg` ships a 2018 build (~4.1). The
 * reference's OpenCV 4.6 decodes with the same libav* 5.1 libraries Debian's ffmpeg uses, and its
 * frames were checked equal byte for byte with this module's output. `FFMPEG_PATH`/`FFPROBE_PATH`
 * (or the `ffmpegPath`/`ffprobePath` options) point elsewhere.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Da3Error, type RgbImageU8 } from '@da3js/core';

/** Options naming the ffmpeg/ffprobe executables. */
export interface FfmpegOptions {
  /** ffmpeg executable (default: `FFMPEG_PATH`, else `ffmpeg` on the PATH). */
  readonly ffmpegPath?: string;
  /**
   * ffprobe executable (default: `FFPROBE_PATH`, else `ffprobe` beside a custom ffmpeg when it
   * exists there, else `ffprobe` on the PATH).
   */
  readonly ffprobePath?: string;
  /** Cancels probing and decoding (ffmpeg is killed); rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** The video stream properties the sampling uses (first video stream, as OpenCV picks it). */
export interface VideoInfo {
  /** Frame size after the container's rotation is applied (OpenCV and ffmpeg both auto-rotate). */
  readonly width: number;
  readonly height: number;
  /** Frame rate as OpenCV's `CAP_PROP_FPS` reads it: `avg_frame_rate`, else `r_frame_rate`. */
  readonly fps: number;
  /** The stream's frame count when the container records it (`nb_frames`), else `undefined`. */
  readonly frameCount?: number;
  readonly codec: string;
  /** Display rotation in degrees from the container's display matrix (0 when none). */
  readonly rotation: number;
}

/** How {@link videoFrames} samples a video. */
export interface VideoSampling {
  readonly info: VideoInfo;
  /** Requested sampling rate. */
  readonly fps: number;
  /** Every `interval`-th decoded frame is kept: `max(1, int(info.fps / fps))`. */
  readonly interval: number;
  /** Rate actually sampled: `info.fps / interval`. */
  readonly sampledFps: number;
}

/** Options of {@link videoFrames} and {@link extractVideoFrames}. */
export interface VideoFramesOptions extends FfmpegOptions {
  /** Sampling rate in frames per second (default 1.0, the CLI's `--fps`). */
  readonly fps?: number;
  /** Stop after this many frames (default: all). */
  readonly maxFrames?: number;
  /** Called once, before the first frame, with the sampling plan (for logging). */
  readonly onSampling?: (sampling: VideoSampling) => void;
}

/** One extracted frame: an RGB image plus its index among all decoded frames. */
export interface VideoFrame extends RgbImageU8 {
  /** 0-based index of the frame in decode (presentation) order, a multiple of the interval. */
  readonly index: number;
}

/** How to get ffmpeg, for error messages. @internal */
export const INSTALL_HINT = 'install ffmpeg: apt-get install ffmpeg, or set FFMPEG_PATH (and FFPROBE_PATH)';

/** The ffmpeg and ffprobe executables {@link videoFrames} runs for these options. */
export function resolveFfmpeg(options: Pick<FfmpegOptions, 'ffmpegPath' | 'ffprobePath'> = {}): { ffmpeg: string; ffprobe: string } {
  const custom = options.ffmpegPath ?? process.env.FFMPEG_PATH;
  const ffmpeg = custom || 'ffmpeg';
  let ffprobe = options.ffprobePath ?? process.env.FFPROBE_PATH;
  if (!ffprobe && custom && /[\\/]/.test(custom)) {
    const exe = basename(custom).toLowerCase().endsWith('.exe') ? 'ffprobe.exe' : 'ffprobe';
    const sibling = join(dirname(custom), exe);
    if (existsSync(sibling)) ffprobe = sibling;
  }
  return { ffmpeg, ffprobe: ffprobe || 'ffprobe' };
}

/** The reference's sampling interval: `max(1, int(videoFps / fps))`. */
export function frameInterval(videoFps: number, fps: number): number {
  return Math.max(1, Math.trunc(videoFps / fps));
}

function checkFile(fn: string, path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new Da3Error('BAD_VALUE', `${fn}: expected a video file path, got ${String(path)}`);
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch {
    throw new Da3Error('IO', `${fn}: cannot read '${path}': no such file or directory`);
  }
  if (!st.isFile()) throw new Da3Error('IO', `${fn}: '${path}' is not a file`);
  // `file:` keeps ffmpeg from reading a protocol or an option out of the name.
  return `file:${resolve(path)}`;
}

function missingTool(fn: string, tool: string, cmd: string, error: unknown): Da3Error {
  return new Da3Error('BAD_CONFIG', `${fn}: cannot run ${tool} ('${cmd}'): ${(error as Error).message}; ${INSTALL_HINT}`, { cause: error });
}

function parseRate(s: unknown): number {
  if (typeof s !== 'string') return 0;
  const [n, d = '1'] = s.split('/');
  const v = Number(n) / Number(d);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * Reads the first video stream's size, rotation and frame rate with ffprobe.
 * @throws Da3Error `IO` (missing file), `BAD_CONFIG` (ffprobe cannot be run), `UNKNOWN_FORMAT`
 *   (not a media file, or no video stream)
 */
export async function probeVideo(path: string, options: FfmpegOptions = {}): Promise<VideoInfo> {
  const fn = 'probeVideo';
  const src = checkFile(fn, path);
  const { ffprobe } = resolveFfmpeg(options);
  const args = [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height,avg_frame_rate,r_frame_rate,nb_frames:stream_side_data=rotation:stream_tags=rotate',
    '-of',
    'json',
    src,
  ];
  const out = await new Promise<string>((res, rej) => {
    execFile(ffprobe, args, { signal: options.signal, maxBuffer: 16 << 20, windowsHide: true }, (error, stdout, stderr) => {
      if (!error) return res(stdout);
      if (options.signal?.aborted) return rej(options.signal.reason);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EACCES') {
        return rej(missingTool(fn, 'ffprobe', ffprobe, error));
      }
      const why = String(stderr).trim().split('\n').pop() || error.message;
      rej(new Da3Error('UNKNOWN_FORMAT', `${fn}: '${path}' is not a video ffmpeg can read (ffprobe: ${why})`, { cause: error }));
    });
  });
  let stream: Record<string, unknown> | undefined;
  try {
    stream = (JSON.parse(out) as { streams?: Record<string, unknown>[] }).streams?.[0];
  } catch (e) {
    throw new Da3Error('UNKNOWN_FORMAT', `${fn}: unexpected ffprobe output for '${path}'`, { cause: e });
  }
  if (!stream) throw new Da3Error('UNKNOWN_FORMAT', `${fn}: '${path}' has no video stream`);
  const width0 = Number(stream.width);
  const height0 = Number(stream.height);
  if (!(width0 > 0 && height0 > 0)) throw new Da3Error('UNKNOWN_FORMAT', `${fn}: '${path}': video stream has no frame size`);
  const fps = parseRate(stream.avg_frame_rate) || parseRate(stream.r_frame_rate);
  if (!fps) throw new Da3Error('UNKNOWN_FORMAT', `${fn}: '${path}': video stream has no frame rate`);
  const side = (stream.side_data_list as { rotation?: number }[] | undefined)?.find((s) => typeof s.rotation === 'number');
  const tagged = Number((stream.tags as { rotate?: string } | undefined)?.rotate);
  const rotation = side?.rotation ?? (Number.isFinite(tagged) ? tagged : 0);
  const quarter = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  const frames = Number(stream.nb_frames);
  return {
    width: quarter ? height0 : width0,
    height: quarter ? width0 : height0,
    fps,
    frameCount: Number.isInteger(frames) && frames > 0 ? frames : undefined,
    codec: String(stream.codec_name ?? 'unknown'),
    rotation,
  };
}

function checkSamplingOptions(fn: string, options: VideoFramesOptions): { fps: number; maxFrames: number | undefined } {
  const fps = options.fps ?? 1.0;
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0) throw new Da3Error('BAD_VALUE', `${fn}: fps must be a positive number, got ${String(fps)}`);
  const { maxFrames } = options;
  if (maxFrames !== undefined && !(Number.isInteger(maxFrames) && maxFrames >= 1)) {
    throw new Da3Error('BAD_VALUE', `${fn}: maxFrames must be a positive integer, got ${String(maxFrames)}`);
  }
  return { fps, maxFrames };
}

/**
 * Decodes a video's frames with ffmpeg, keeping every `max(1, int(video_fps / fps))`-th frame
 * like the reference (OpenCV reads every frame; frame 0 is always kept). ffmpeg's `fps` filter
 * is not used (it resamples by timestamp); a `select` on the decoded frame number and
 * `-fps_mode passthrough` (no duplicated or dropped frames) pick exactly the reference's frames,
 * converted to RGB24 by the same swscale path OpenCV uses. Frames arrive through a pipe
 * (`-f rawvideo -pix_fmt rgb24`) one at a time, so memory stays at one frame plus what the
 * consumer keeps; stopping the iteration kills ffmpeg.
 * @throws Da3Error `IO` (missing file, ffmpeg failed), `BAD_CONFIG` (ffmpeg/ffprobe not
 *   installed: "install ffmpeg: apt-get install ffmpeg, or set FFMPEG_PATH"), `UNKNOWN_FORMAT`
 *   (not a video), `BAD_VALUE` (fps ≤ 0, bad maxFrames)
 */
export async function* videoFrames(path: string, options: VideoFramesOptions = {}): AsyncGenerator<VideoFrame, void, undefined> {
  const fn = 'videoFrames';
  const { fps, maxFrames } = checkSamplingOptions(fn, options);
  const src = checkFile(fn, path);
  const info = await probeVideo(path, options);
  const interval = frameInterval(info.fps, fps);
  options.onSampling?.({ info, fps, interval, sampledFps: info.fps / interval });
  const { ffmpeg } = resolveFfmpeg(options);
  const { width, height } = info;
  const frameBytes = width * height * 3;

  const args = (fpsMode: string[]) => [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    '-i',
    src,
    '-map',
    '0:v:0',
    ...(interval > 1 ? ['-vf', `select=not(mod(n\\,${interval}))`] : []),
    ...fpsMode,
    ...(maxFrames !== undefined ? ['-frames:v', String(maxFrames)] : []),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
  // `-fps_mode` appeared in ffmpeg 5.1; older builds only know `-vsync`.
  let emitted = 0;
  for (const fpsMode of [
    ['-fps_mode', 'passthrough'],
    ['-vsync', 'passthrough'],
  ]) {
    const child = spawn(ffmpeg, args(fpsMode), { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal, windowsHide: true });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr = (stderr + s).slice(-8192);
    });
    let spawnError: Error | undefined;
    const closed = new Promise<number | null>((res) => {
      child.once('error', (e) => {
        spawnError = e;
        res(null);
      });
      child.once('close', (code) => res(code));
    });
    const aborted = () => options.signal?.aborted === true;
    try {
      let frame = new Uint8Array(frameBytes);
      let filled = 0;
      const chunks = (async function* () {
        try {
          yield* child.stdout as AsyncIterable<Buffer>;
        } catch (e) {
          if (aborted()) throw options.signal?.reason;
          if (!spawnError) throw new Da3Error('IO', `${fn}: reading ffmpeg's output for '${path}' failed: ${(e as Error).message}`, { cause: e });
        }
      })();
      for await (const chunk of chunks) {
        let at = 0;
        while (at < chunk.length) {
          const n = Math.min(frameBytes - filled, chunk.length - at);
          frame.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === frameBytes) {
            yield { data: frame, width, height, channels: 3, index: emitted * interval };
            emitted++;
            frame = new Uint8Array(frameBytes);
            filled = 0;
          }
        }
      }
      const code = await closed;
      if (aborted()) throw options.signal?.reason;
      if (spawnError) {
        const errno = (spawnError as NodeJS.ErrnoException).code;
        if (errno === 'ENOENT' || errno === 'EACCES') throw missingTool(fn, 'ffmpeg', ffmpeg, spawnError);
        throw new Da3Error('IO', `${fn}: ffmpeg failed on '${path}': ${spawnError.message}`, { cause: spawnError });
      }
      if (code !== 0) {
        if (emitted === 0 && /Unrecognized option 'fps_mode'/.test(stderr)) continue;
        const why = stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${code}`;
        throw new Da3Error('IO', `${fn}: ffmpeg could not decode '${path}' (${why})`);
      }
      if (filled !== 0) {
        throw new Da3Error('IO', `${fn}: ffmpeg output for '${path}' ends inside a frame (${filled} of ${frameBytes} bytes for ${width}×${height}); frame size mismatch`);
      }
      return;
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
}

/**
 * Extracts a video's frames into memory (see {@link videoFrames} for the sampling, which is the
 * reference's `da3 video --fps`). Prefer {@link videoFrames} for long videos.
 */
export async function extractVideoFrames(path: string, options: VideoFramesOptions = {}): Promise<VideoFrame[]> {
  const frames: VideoFrame[] = [];
  for await (const f of videoFrames(path, options)) frames.push(f);
  if (frames.length === 0) throw new Da3Error('EMPTY_INPUT', `extractVideoFrames: no frames decoded from '${path}'`);
  return frames;
}
