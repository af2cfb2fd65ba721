/**
 * Runs one job of the inference service: fetch the inputs, decode them (images, or a video's
 * sampled frames), run the model, export the requested formats, upload them to the PUT target (or
 * keep them), and describe every file (size, sha256). Each stage updates the job's progress and
 * timings. A cancelled job stops at the next stage boundary (downloads and uploads abort at once).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Da3Error, type ImageU8, type InferenceProgress, isDa3Error } from '@da3js/core';
import type { Job, JobError, JobFile, JobRequest, JobStage } from '@da3js/core/protocol';
import { exportToDirectory } from '../export/export-dir.js';
import { decodeImage, extractVideoFrames } from '../input/index.js';
import { readUrlBytes } from '../input/source.js';
import type { DepthAnything3, NodeInferenceOptions } from '../model/depth-anything-3.js';
import type { ResolvedServiceOptions } from './options.js';
import { putFile, withoutQuery } from './transfer.js';

/** What the service needs of a model. */
export type ServiceModel = Pick<DepthAnything3, 'inference' | 'device' | 'kind'>;

/** Where each stage starts in the overall progress fraction. */
const STAGE_START: Record<JobStage, number> = { queued: 0, fetch: 0, decode: 0.1, preprocess: 0.15, network: 0.2, postprocess: 0.8, export: 0.85, upload: 0.95, done: 1 };

const CONTENT_TYPES: Record<string, string> = {
  '.glb': 'model/gltf-binary',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.npz': 'application/zip',
  '.ply': 'application/octet-stream',
  '.spz': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
};

/** The content type the service gives a result file, by extension. */
export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** A typed error → the job's error (with whether a retry of the job may succeed). */
export function jobErrorOf(error: unknown): JobError {
  if (isDa3Error(error)) return { code: error.code, message: error.message, retryable: error.code === 'IO' || error.code === 'OUT_OF_MEMORY' };
  return { code: 'INTERNAL', message: (error as Error)?.message ?? String(error), retryable: true };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A name safe for COLMAP image lists and messages (letters, digits, `._-`). */
function safeName(name: string | undefined, index: number): string {
  const base = (name ?? '').split(/[\\/]/).pop()!.replace(/[^\w.-]/g, '_').slice(0, 128);
  return base && base !== '.' && base !== '..' ? base : `${String(index).padStart(4, '0')}.png`;
}

/** What a run needs from the service. */
export interface RunContext {
  readonly id: string;
  readonly request: JobRequest;
  readonly model: ServiceModel;
  readonly options: ResolvedServiceOptions;
  readonly jobDir: string;
  readonly filesDir: string;
  /** Aborts downloads/uploads and stops at the next stage when the job is cancelled. */
  readonly signal: AbortSignal;
  /** Publishes a state change of this job. */
  readonly update: (patch: Partial<Job>) => Promise<void>;
  /** Route prefix of kept files (`/v1/jobs/<id>/files/`). */
  readonly filesRoute: string;
}

/**
 * Runs the job to its result (`succeeded`), or throws: the caller records the failure. Progress
 * and timings are published through `ctx.update`.
 */
export async function runJob(ctx: RunContext): Promise<NonNullable<Job['result']>> {
  const { request, options, signal } = ctx;
  const timings: Record<string, number> = {};
  let stage: JobStage = 'queued';
  let stageAt = Date.now();
  const enter = async (next: JobStage, fraction = STAGE_START[next]) => {
    signal.throwIfAborted();
    const now = Date.now();
    if (stage !== 'queued') timings[stage] = (timings[stage] ?? 0) + (now - stageAt);
    stage = next;
    stageAt = now;
    await ctx.update({ progress: { stage: next, fraction }, timings: { ...timings } });
  };

  // 1. Fetch.
  await enter('fetch');
  const bytes: Uint8Array[] = [];
  for (const [i, input] of request.inputs.entries()) {
    bytes.push('url' in input ? await readUrlBytes('job input', new URL(input.url), options.maxInputBytes, signal, options.networkTimeoutMs) : new Uint8Array(Buffer.from(input.data, 'base64')));
    await ctx.update({ progress: { stage: 'fetch', fraction: STAGE_START.fetch + (0.1 * (i + 1)) / request.inputs.length } });
  }

  // 2. Decode: images, or one video's sampled frames.
  await enter('decode');
  const opts = request.options ?? {};
  const video = request.inputs.findIndex((i) => i.kind === 'video');
  let images: ImageU8[];
  let names: string[];
  if (video >= 0) {
    if (request.inputs.length !== 1) throw new Da3Error('BAD_VALUE', 'a video must be the only input of its job');
    const path = join(ctx.jobDir, 'input-video');
    await writeFile(path, bytes[0]);
    try {
      images = await extractVideoFrames(path, { fps: opts.video?.fps, maxFrames: opts.video?.maxFrames, signal });
    } finally {
      await rm(path, { force: true });
    }
    if (images.length === 0) throw new Da3Error('EMPTY_INPUT', 'no frames could be decoded from the video');
    names = images.map((_, i) => `${String(i).padStart(6, '0')}.png`);
  } else {
    images = [];
    for (const [i, b] of bytes.entries()) images.push(await decodeImage(b, { name: request.inputs[i].name ?? `input ${i}`, applyExifOrientation: opts.applyExifOrientation, signal }));
    names = request.inputs.map((input, i) => safeName(input.name, i));
  }
  bytes.length = 0;
  await ctx.update({ views: images.length });

  // 3. Inference (its own stages).
  const inferenceOptions: NodeInferenceOptions = {
    processRes: opts.processRes,
    processResMethod: opts.processResMethod as NodeInferenceOptions['processResMethod'],
    refViewStrategy: opts.refViewStrategy as NodeInferenceOptions['refViewStrategy'],
    extrinsics: opts.extrinsics,
    intrinsics: opts.intrinsics,
    alignToInputExtScale: opts.alignToInputExtScale,
    useRayPose: opts.useRayPose,
    inferGs: opts.inferGs,
    exportFeatLayers: opts.exportFeatLayers,
    onProgress: (e: InferenceProgress) => {
      if (e.stage !== 'network' || e.graphsDone === 0) void enter(e.stage).catch(() => undefined);
    },
    signal,
  };
  const prediction = await ctx.model.inference(images, inferenceOptions);

  // 4. Export into the job's folder.
  await enter('export');
  const sizes = images.map((im) => [im.width, im.height] as [number, number]);
  images = [];
  const written = await exportToDirectory(prediction, {
    dir: ctx.filesDir,
    formats: request.formats ?? 'mini_npz',
    ...request.exportOptions,
    imageNames: names,
    originalSizes: sizes,
    signal,
  });
  const rel = written.map((p) => p.slice(ctx.filesDir.length + 1).split('\\').join('/'));

  // 5. Upload (PUT target) or keep.
  const files: JobFile[] = [];
  const output = request.output ?? { type: 'keep' as const };
  if (output.type === 'put') {
    const missing = rel.filter((name) => !Object.hasOwn(output.urls, name));
    if (missing.length) {
      throw new Da3Error('BAD_VALUE', `output.urls has no PUT URL for ${missing.length} produced file(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ' …' : ''}`);
    }
  }
  await enter('upload');
  for (const [i, name] of rel.entries()) {
    const path = join(ctx.filesDir, ...name.split('/'));
    const contentType = contentTypeOf(name);
    const file: JobFile = { name, size: (await stat(path)).size, sha256: await sha256Of(path), contentType };
    if (output.type === 'put') {
      const url = output.urls[name];
      await putFile(url, path, contentType, output.headers ?? {}, { attempts: options.uploadAttempts, firstDelayMs: options.retryDelayMs, timeoutMs: options.networkTimeoutMs, signal });
      files.push({ ...file, url: withoutQuery(url) });
    } else {
      files.push({ ...file, url: `${ctx.filesRoute}${name.split('/').map(encodeURIComponent).join('/')}` });
    }
    await ctx.update({ progress: { stage: 'upload', fraction: STAGE_START.upload + (0.05 * (i + 1)) / rel.length } });
  }
  if (output.type === 'put') await rm(ctx.filesDir, { recursive: true, force: true });
  await enter('done');
  return { views: prediction.views, width: prediction.width, height: prediction.height, isMetric: prediction.isMetric, files };
}
