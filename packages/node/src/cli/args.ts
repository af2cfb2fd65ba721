import { parseArgs } from 'node:util';
import {
  assertDtype,
  Da3Error,
  MAX_BLOCKS,
  MAX_PROCESS_RES,
  PREPROCESS_SIZE_MULTIPLE,
  REF_VIEW_STRATEGIES,
  RESIZE_METHODS,
  type RefViewStrategy,
  type ResizeMethod,
  TRAJECTORY_MODES,
  type TrajectoryMode,
} from '@da3js/core';
import { parseFormats } from '@da3js/exporters';
import { DEFAULT_MODEL, NODE_DTYPES, type NodeDtype } from '../model/depth-anything-3.js';

/** `da3` commands (the reference's, plus `convert`). */
export const COMMANDS = ['auto', 'image', 'images', 'video', 'colmap', 'stream', 'convert', 'backend', 'gallery', 'app'] as const;
export type Command = (typeof COMMANDS)[number];

/** Parsed command line (kebab-case flags of the reference, camelCase here). */
export interface CliArgs {
  readonly command: Command;
  readonly input: string | undefined;
  readonly modelDir: string;
  readonly exportDir: string;
  readonly exportFormat: string;
  readonly device: 'auto' | 'cuda' | 'cpu';
  readonly dtype: NodeDtype;
  readonly processRes: number;
  readonly processResMethod: ResizeMethod;
  readonly refViewStrategy: RefViewStrategy;
  readonly useRayPose: boolean;
  readonly inferGs: boolean;
  readonly exportFeat: number[];
  readonly confThreshPercentile: number;
  readonly numMaxPoints: number;
  readonly showCameras: boolean;
  /** gs_video trajectory (`--gs-trajectory`, default extend). */
  readonly gsTrajectory: TrajectoryMode;
  /** gs_video x264 preset (`--gs-video-quality`, default high). */
  readonly gsVideoQuality: 'low' | 'medium' | 'high';
  /** gs_video frame size (`--render-hw HxW`, the reference's `render_hw`); default the processed size. */
  readonly renderHw: { readonly height: number; readonly width: number } | undefined;
  readonly fps: number;
  readonly imageExtensions: string[];
  readonly sparseSubdir: string;
  readonly alignToInputExtScale: boolean;
  readonly applyExifOrientation: boolean;
  readonly cacheDir: string | undefined;
  readonly revision: string;
  readonly localFilesOnly: boolean;
  /** Refuse checkpoints with tensors the model does not use. */
  readonly strict: boolean;
  readonly json: boolean;
  /** Error lines keep internal detail (function names, causes, stack). */
  readonly verbose: boolean;
  readonly host: string;
  readonly port: number;
  /** `da3 backend`: bearer token (else $DA3_TOKEN, else a generated one kept in the state folder). */
  readonly token: string | undefined;
  /** `da3 backend`: job records and kept results (default `<cache>/backend`). */
  readonly stateDir: string | undefined;
  readonly maxQueue: number;
  /** `da3 backend`: hosts inputs/outputs/callbacks may use (unset: any). */
  readonly allowedHosts: string[] | undefined;
  /** `da3 backend`: browser origins allowed to call it. */
  readonly allowedOrigins: string[] | undefined;
  readonly out: string | undefined;
  /** `da3 app`: the built web app (else @da3js/web-app's dist/). */
  readonly appDir: string | undefined;
  /** `da3 app`: open the browser on it. */
  readonly open: boolean;
  /** `da3 stream`: frames per chunk (the reference's `chunk_size`). */
  readonly chunkSize: number;
  /** `da3 stream`: frames shared by consecutive chunks (`overlap`). */
  readonly overlap: number;
  /** `da3 stream`: `align_method`. */
  readonly alignMethod: 'sim3' | 'se3' | 'scale+se3';
  /** `da3 stream`: point-cloud share (`sample_ratio`). */
  readonly sampleRatio: number;
  /** `da3 stream`: `conf_threshold_coef`. */
  readonly confThresholdCoef: number;
  /** `da3 stream`: write `results_output/frame_<i>.npz` (`save_depth_conf_result`). */
  readonly saveDepthConf: boolean;
  /** `da3 stream`: discard the state of an earlier run in the export folder. */
  readonly restart: boolean;
  /** `da3 stream --loop-pairs a:b,…`: user-given loop-closure frame pairs (0-based). */
  readonly loopPairs: [number, number][];
  /** `da3 stream --loop-closure auto`: detect loops on DA3's own features (ours, not SALAD). */
  readonly loopDetect: boolean;
  /** `da3 stream --loop-chunk-size`: frames per loop window (`loop_chunk_size`, 20). */
  readonly loopChunkSize: number;
  /** `da3 stream --loop-similarity`: detection's similarity threshold (0.85). */
  readonly loopSimilarity: number;
}

/** The model the CLI uses by default. */
export { DEFAULT_MODEL };

export const USAGE = `Usage: da3 <command> [input] [options]

Commands:
  auto <path>       detect an image, a folder of images, a video or a COLMAP folder
  image <file>      one image
  images <folder>   every image in a folder (--image-extensions)
  video <file>      frames sampled at --fps (needs ffmpeg)
  colmap <folder>   images/ + sparse/: pose-conditioned inference with the COLMAP cameras
  stream <video|folder>  DA3-Streaming: long sequences in overlapping chunks aligned by Sim(3), in
                    bounded memory: --chunk-size (120), --overlap (half of it), --align-method sim3|se3|
                    scale+se3, --sample-ratio (0.015), --conf-threshold-coef (0.75), --fps (video),
                    --no-save-depth-conf; writes camera_poses.txt, intrinsic.txt, camera_poses.ply,
                    pcd/combined_pcd.ply, results_output/frame_<i>.npz; a stopped run continues
                    where it stopped when run again (--restart starts over). Loop closure (Sim(3)
                    pose graph, outputs re-written corrected): --loop-pairs 0:250,10:260 (frame
                    pairs that show the same place) and/or --loop-closure auto (detection on DA3's
                    own features, ours, not the reference's SALAD; folders only), --loop-chunk-size
                    (20), --loop-similarity (0.85)
  convert <model>   checkpoint → ONNX (--out folder, --dtype fp32|fp16|q8)
  backend           the inference service (job protocol v1, docs/job-protocol.md) keeping the model
                    resident: --host (default 127.0.0.1), --port, --token (else $DA3_TOKEN, else a
                    generated one saved in the state folder), --state-dir, --max-queue,
                    --allowed-hosts a,b, --allowed-origins o1,o2; $DA3_WEBHOOK_SECRET signs callbacks
  gallery <folder>  browse exported scenes (folders holding scene.glb) in a 3D viewer: --host,
                    --port (default 8007), --allowed-hosts
  app               the in-browser app (WebGPU/WASM) on http://127.0.0.1:8009 with --model-dir
                    served from this machine (hub cache or a folder; offline with
                    --local-files-only): --host, --port, --app-dir (default: @da3js/web-app's
                    build), --allowed-hosts, --open

Options:
  --model-dir <id|path>        model id, folder, .safetensors or .onnx (default ${DEFAULT_MODEL})
  --export-dir <folder>        output folder (default ./da3-output)
  --export-format <f1-f2>      e.g. glb, mini_npz-glb (default glb); like the reference, any gs*
                               format adds gs_video (a novel-view H.264 video, needs ffmpeg)
  --gs-trajectory <mode>       gs_video camera path: extend (default), original, smooth, interpolate,
                               interpolate_smooth, wander, dolly_zoom, wobble_inter (one view: wander)
  --gs-video-quality <q>       high (crf 18, default) | medium (crf 23) | low (crf 28)
  --render-hw <H>x<W>          gs_video frame size (default the processed image size)
  --no-gs-video                gs* formats without the gs_video the reference adds
  --device auto|cuda|cpu       (default auto)     --dtype fp32|fp16|q8 (default fp32;
                               q8: int8 weights, CPU only; fp16: for CUDA, no faster on the CPU)
  --process-res <px>           (default 504)      --process-res-method <m> (default upper_bound_resize)
  --ref-view-strategy <s>      saddle_balanced | saddle_sim_range | first | middle
  --use-ray-pose               cameras from the ray map instead of the camera head
  --infer-gs                   predict 3D Gaussians (GIANT/NESTED; implied by gs_ply, gs_gltf, spz, gs_video)
  --export-feat <l1,l2>        backbone layers to export (feat_vis)
  --conf-thresh-percentile <p> (default 40)       --num-max-points <n> (default 1000000)
  --no-show-cameras            leave camera frustums out of the GLB
  --fps <n>                    video sampling rate (default 1)
  --image-extensions <list>    (default png,jpg,jpeg)
  --sparse-subdir <dir>        COLMAP sparse model under sparse/ (default "")
  --no-align-to-input-ext-scale   keep predicted depth scale for COLMAP input
  --apply-exif-orientation     rotate images by their EXIF tag (the reference does not)
  --cache-dir <folder>  --revision <rev>  --local-files-only
  --strict                     refuse a checkpoint with tensors the model does not use
  --json                       machine-readable summary on stdout
  --verbose                    error details (causes, stack) for bug reports
  --version, -V                print the version
  --help, -h`;

function number(name: string, value: string | undefined, fallback: number, integer: boolean, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new Da3Error('BAD_VALUE', `--${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${value}"`);
  }
  return n;
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((v) => v.trim()).filter(Boolean);
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new Da3Error('BAD_VALUE', `--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/**
 * The export formats of `--export-format`, checked before any model is loaded. Like the
 * reference's `inference` (`if "gs" in export_format: … f"{export_format}-gs_video"`), a format
 * naming Gaussians adds `gs_video` unless `--no-gs-video`.
 */
function exportFormat(value: string | undefined, exportFeat: readonly number[], gsVideo: boolean): string {
  const text = value ?? 'glb';
  let formats: string[];
  try {
    formats = parseFormats(text);
  } catch (error) {
    throw new Da3Error('BAD_VALUE', `--export-format ${(error as Error).message.replace(/^exportPrediction: /, '')}`, { cause: error });
  }
  if (formats.includes('feat_vis') && exportFeat.length === 0) throw new Da3Error('BAD_VALUE', '--export-format feat_vis needs --export-feat <layers>');
  if (gsVideo && formats.some((f) => f.includes('gs')) && !formats.includes('gs_video')) formats.push('gs_video');
  return formats.join('-');
}

function renderHw(value: string | undefined): { height: number; width: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(value.trim());
  const [h, w] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!(h >= 1 && w >= 1 && h <= 8192 && w <= 8192)) throw new Da3Error('BAD_VALUE', `--render-hw must be <height>x<width> in pixels (1–8192), got "${value}"`);
  return { height: h, width: w };
}

/**
 * Parses `da3` arguments: `'help'` for `--help`/`help`, `'version'` for `--version`, else the
 * validated arguments (every value checked here, before any model is loaded).
 * @throws Da3Error `BAD_VALUE` with a one-line message for a missing or unknown command, flags or values
 */
export function parseCliArgs(argv: readonly string[]): CliArgs | 'help' | 'version' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'model-dir': { type: 'string', short: 'm' },
        'export-dir': { type: 'string', short: 'o' },
        'export-format': { type: 'string', short: 'f' },
        device: { type: 'string' },
        dtype: { type: 'string' },
        'process-res': { type: 'string' },
        'process-res-method': { type: 'string' },
        'ref-view-strategy': { type: 'string' },
        'use-ray-pose': { type: 'boolean' },
        'infer-gs': { type: 'boolean' },
        'export-feat': { type: 'string' },
        'conf-thresh-percentile': { type: 'string' },
        'num-max-points': { type: 'string' },
        'show-cameras': { type: 'boolean' },
        'no-show-cameras': { type: 'boolean' },
        fps: { type: 'string' },
        'gs-trajectory': { type: 'string' },
        'gs-video-quality': { type: 'string' },
        'render-hw': { type: 'string' },
        'no-gs-video': { type: 'boolean' },
        'image-extensions': { type: 'string' },
        'sparse-subdir': { type: 'string' },
        'align-to-input-ext-scale': { type: 'boolean' },
        'no-align-to-input-ext-scale': { type: 'boolean' },
        'apply-exif-orientation': { type: 'boolean' },
        'cache-dir': { type: 'string' },
        revision: { type: 'string' },
        'local-files-only': { type: 'boolean' },
        strict: { type: 'boolean' },
        json: { type: 'boolean' },
        host: { type: 'string' },
        port: { type: 'string' },
        token: { type: 'string' },
        'state-dir': { type: 'string' },
        'max-queue': { type: 'string' },
        'allowed-hosts': { type: 'string' },
        'allowed-origins': { type: 'string' },
        out: { type: 'string' },
        'app-dir': { type: 'string' },
        open: { type: 'boolean' },
        'chunk-size': { type: 'string' },
        overlap: { type: 'string' },
        'align-method': { type: 'string' },
        'sample-ratio': { type: 'string' },
        'conf-threshold-coef': { type: 'string' },
        'save-depth-conf': { type: 'boolean' },
        'no-save-depth-conf': { type: 'boolean' },
        restart: { type: 'boolean' },
        'loop-pairs': { type: 'string' },
        'loop-closure': { type: 'string' },
        'loop-chunk-size': { type: 'string' },
        'loop-similarity': { type: 'string' },
        verbose: { type: 'boolean' },
        version: { type: 'boolean', short: 'V' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new Da3Error('BAD_VALUE', (error as Error).message.split('\n')[0]);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const [command, input, ...extra] = parsed.positionals;
  if (v.help || command === 'help') return 'help';
  if (v.version) return 'version';
  if (command === undefined) throw new Da3Error('BAD_VALUE', 'no command given');
  if (!COMMANDS.includes(command as Command)) throw new Da3Error('BAD_VALUE', `unknown command "${command}"; one of ${COMMANDS.join(', ')}`);
  if (extra.length) throw new Da3Error('BAD_VALUE', `unexpected argument "${extra[0]}"`);
  if (!input && ['auto', 'image', 'images', 'video', 'colmap', 'stream'].includes(command)) throw new Da3Error('BAD_VALUE', `${command} needs an input path`);
  if (input !== undefined && command === 'app') throw new Da3Error('BAD_VALUE', `${command} takes no input path, got "${input}" (the model is --model-dir)`);
  const str = (k: string) => v[k] as string | undefined;
  const dtype = str('dtype') ?? 'fp32';
  assertDtype(dtype, NODE_DTYPES, '--dtype');
  const device = oneOf('device', str('device'), ['auto', 'cuda', 'cpu'] as const, 'auto');
  if (dtype === 'q8' && device === 'cuda') throw new Da3Error('UNSUPPORTED', '--dtype q8 runs on the CPU only (no int8 kernels in onnxruntime\'s CUDA provider); use --device cpu or auto, or --dtype fp16 on CUDA');
  const feat = str('export-feat');
  const chunkSize = number('chunk-size', str('chunk-size'), 120, true, 2, 100_000);
  const overlap = number('overlap', str('overlap'), Math.floor(chunkSize / 2), true, 1, 100_000);
  if (overlap >= chunkSize) throw new Da3Error('BAD_VALUE', `--overlap (${overlap}) must be less than --chunk-size (${chunkSize})`);
  const exportFeat = feat ? feat.split(',').filter(Boolean).map((s) => number('export-feat', s.trim(), 0, true, 0, MAX_BLOCKS - 1)) : [];
  return {
    command: command as Command,
    input,
    modelDir: str('model-dir') ?? DEFAULT_MODEL,
    exportDir: str('export-dir') ?? 'da3-output',
    exportFormat: exportFormat(str('export-format'), exportFeat, !v['no-gs-video']),
    device,
    dtype,
    processRes: number('process-res', str('process-res'), 504, true, PREPROCESS_SIZE_MULTIPLE, MAX_PROCESS_RES),
    processResMethod: oneOf('process-res-method', str('process-res-method'), RESIZE_METHODS, 'upper_bound_resize'),
    refViewStrategy: oneOf('ref-view-strategy', str('ref-view-strategy'), REF_VIEW_STRATEGIES, 'saddle_balanced'),
    useRayPose: !!v['use-ray-pose'],
    inferGs: !!v['infer-gs'] || /(^|-)(gs_ply|gs_ply_sh3|gs_gltf|spz|gs_video)(-|$)/.test(str('export-format') ?? ''),
    exportFeat,
    confThreshPercentile: number('conf-thresh-percentile', str('conf-thresh-percentile'), 40, false, 0, 100),
    numMaxPoints: number('num-max-points', str('num-max-points'), 1_000_000, true, 1, 2 ** 31 - 1),
    showCameras: !v['no-show-cameras'],
    gsTrajectory: oneOf('gs-trajectory', str('gs-trajectory'), TRAJECTORY_MODES, 'extend'),
    gsVideoQuality: oneOf('gs-video-quality', str('gs-video-quality'), ['low', 'medium', 'high'] as const, 'high'),
    renderHw: renderHw(str('render-hw')),
    fps: number('fps', str('fps'), 1, false, 0.001, 1000),
    imageExtensions: (str('image-extensions') ?? 'png,jpg,jpeg').split(',').map((e) => e.trim().replace(/^\./, '').toLowerCase()).filter(Boolean),
    sparseSubdir: str('sparse-subdir') ?? '',
    alignToInputExtScale: !v['no-align-to-input-ext-scale'],
    applyExifOrientation: !!v['apply-exif-orientation'],
    cacheDir: str('cache-dir'),
    revision: str('revision') ?? 'main',
    localFilesOnly: !!v['local-files-only'],
    strict: !!v.strict,
    json: !!v.json,
    verbose: !!v.verbose,
    host: str('host') ?? '127.0.0.1',
    port: number('port', str('port'), command === 'gallery' ? 8007 : command === 'app' ? 8009 : 8008, true, 0, 65535),
    token: str('token'),
    stateDir: str('state-dir'),
    maxQueue: number('max-queue', str('max-queue'), 16, true, 1, 100_000),
    allowedHosts: list(str('allowed-hosts')),
    allowedOrigins: list(str('allowed-origins')),
    out: str('out'),
    appDir: str('app-dir'),
    open: !!v.open,
    chunkSize,
    overlap,
    alignMethod: oneOf('align-method', str('align-method'), ['sim3', 'se3', 'scale+se3'] as const, 'sim3'),
    sampleRatio: number('sample-ratio', str('sample-ratio'), 0.015, false, Number.MIN_VALUE, 1),
    confThresholdCoef: number('conf-threshold-coef', str('conf-threshold-coef'), 0.75, false, 0, 1e6),
    saveDepthConf: !v['no-save-depth-conf'],
    restart: !!v.restart,
    loopPairs: loopPairs(str('loop-pairs')),
    loopDetect: oneOf('loop-closure', str('loop-closure'), ['off', 'auto'] as const, 'off') === 'auto',
    loopChunkSize: number('loop-chunk-size', str('loop-chunk-size'), 20, true, 2, 100_000),
    loopSimilarity: number('loop-similarity', str('loop-similarity'), 0.85, false, -1, 1),
  };
}

/** `--loop-pairs 0:250,10:260` → `[[0, 250], [10, 260]]`. */
function loopPairs(text: string | undefined): [number, number][] {
  if (text === undefined) return [];
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const m = /^(\d+):(\d+)$/.exec(pair);
      if (!m) throw new Da3Error('BAD_VALUE', `--loop-pairs: "${pair}" is not a:b (two frame indices, 0-based)`);
      const p: [number, number] = [Number(m[1]), Number(m[2])];
      if (!p.every(Number.isSafeInteger)) throw new Da3Error('BAD_VALUE', `--loop-pairs: "${pair}" is out of range`);
      if (p[0] === p[1]) throw new Da3Error('BAD_VALUE', `--loop-pairs: "${pair}" pairs a frame with itself`);
      return p;
    });
}
