/**
 * The DA3 job protocol, version 1: what a client sends to an inference service (`da3 backend`,
 * apps/gpu-worker, the edge API) and what it gets back, as zod schemas shared by the servers and
 * `@da3js/client`. JSON over HTTP; camelCase; sizes in bytes, times in milliseconds since the epoch
 * (or durations in milliseconds), cameras in the OpenCV convention (world→camera, x right, y down,
 * z forward). The full HTTP contract is in `docs/job-protocol.md`.
 */
import { z } from 'zod';
import { REF_VIEW_STRATEGIES } from '../model/host/ref-view.js';
import { MAX_PROCESS_RES, PREPROCESS_SIZE_MULTIPLE, RESIZE_METHODS } from '../preprocess/plan.js';

/** The protocol version: the `/v1` URL prefix and `protocolVersion` of health answers. */
export const JOB_PROTOCOL_VERSION = 1;

/** Most inputs (images, or one video) of one job. */
export const MAX_JOB_INPUTS = 1024;

/** Longest URL accepted anywhere in a job. */
const MAX_URL = 8192;

const httpUrl = z
  .string()
  .max(MAX_URL)
  .refine((s) => /^https?:\/\//i.test(s) && URL.canParse(s), { message: 'must be an absolute http(s) URL' });

/** A relative output path: `/`-separated, no `..`, no leading `/`, printable. */
const relativePath = z
  .string()
  .min(1)
  .max(512)
  .refine((s) => !s.startsWith('/') && !s.includes('\\') && s.split('/').every((p) => p !== '' && p !== '.' && p !== '..') && ![...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f), {
    message: 'must be a relative path without "..", empty parts, backslashes or control characters',
  });

/** One input: an image or video fetched from a URL (e.g. presigned GET) or sent inline as base64. */
export const JobInputSchema = z.union([
  z
    .object({
      /** Where to GET the file (http/https; presigned URLs work as they are). */
      url: httpUrl,
      /** `image` (default) or `video` (then the only input; frames sampled by `options.video`). */
      kind: z.enum(['image', 'video']).optional(),
      /** Name used in messages and COLMAP image names. */
      name: z.string().min(1).max(255).optional(),
    })
    .strict(),
  z
    .object({
      /** The file's bytes, base64 (small jobs; the body limit applies). */
      data: z.string().min(1).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
      kind: z.enum(['image', 'video']).optional(),
      name: z.string().min(1).max(255).optional(),
    })
    .strict(),
]);
export type JobInput = z.infer<typeof JobInputSchema>;

const finiteNumber = z.number().refine(Number.isFinite, { message: 'must be finite' });

/** Every option of `inference()` that travels as JSON (camelCase, as `@da3js/node`). */
export const JobInferenceOptionsSchema = z
  .object({
    processRes: z.number().int().min(PREPROCESS_SIZE_MULTIPLE).max(MAX_PROCESS_RES).optional(),
    processResMethod: z.enum(RESIZE_METHODS as unknown as [string, ...string[]]).optional(),
    refViewStrategy: z.enum(REF_VIEW_STRATEGIES as unknown as [string, ...string[]]).optional(),
    /** Known cameras, world→camera, one 3×4 or 4×4 per view, row-major, flattened. */
    extrinsics: z.array(finiteNumber).max(16 * MAX_JOB_INPUTS).optional(),
    /** Known intrinsics (pixels of the input images), one 3×3 per view, row-major, flattened. */
    intrinsics: z.array(finiteNumber).max(9 * MAX_JOB_INPUTS).optional(),
    alignToInputExtScale: z.boolean().optional(),
    useRayPose: z.boolean().optional(),
    inferGs: z.boolean().optional(),
    exportFeatLayers: z.array(z.number().int().min(0).max(1023)).max(64).optional(),
    applyExifOrientation: z.boolean().optional(),
    /** Video inputs: sampling rate (frames per second of video) and a frame budget. */
    video: z
      .object({
        fps: z.number().min(0.001).max(1000).optional(),
        maxFrames: z.number().int().min(1).max(MAX_JOB_INPUTS).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type JobInferenceOptions = z.infer<typeof JobInferenceOptionsSchema>;

/** The exporters' options that travel as JSON. */
export const JobExportOptionsSchema = z
  .object({
    confThreshPercentile: z.number().min(0).max(100).optional(),
    numMaxPoints: z.number().int().min(1).max(2 ** 31 - 1).optional(),
    showCameras: z.boolean().optional(),
    filterBlackBg: z.boolean().optional(),
    filterWhiteBg: z.boolean().optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    featVisLayers: z.array(z.number().int().min(0).max(1023)).max(64).optional(),
  })
  .strict();
export type JobExportOptions = z.infer<typeof JobExportOptionsSchema>;

/**
 * Where the result files go: `keep` (default: the service keeps them for
 * `GET /v1/jobs/:id/files/<path>` until the job expires) or `put` (one presigned PUT URL per file,
 * by relative path; a produced file without a URL fails the job before anything is uploaded).
 */
export const JobOutputSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('keep') }).strict(),
  z
    .object({
      type: z.literal('put'),
      urls: z.record(relativePath, httpUrl).refine((r) => Object.keys(r).length <= 100_000, { message: 'too many URLs' }),
      /** Extra headers sent with every PUT (e.g. `x-amz-server-side-encryption`). */
      headers: z.record(z.string().min(1).max(128), z.string().max(4096)).optional(),
    })
    .strict(),
]);
export type JobOutput = z.infer<typeof JobOutputSchema>;

/** `POST /v1/jobs`. */
export const JobRequestSchema = z
  .object({
    inputs: z.array(JobInputSchema).min(1).max(MAX_JOB_INPUTS),
    options: JobInferenceOptionsSchema.optional(),
    /** Export formats as the reference spells them (`"glb-mini_npz"`) or a list (default `mini_npz`). */
    formats: z.union([z.string().min(1).max(256), z.array(z.string().min(1).max(64)).min(1).max(32)]).optional(),
    exportOptions: JobExportOptionsSchema.optional(),
    output: JobOutputSchema.optional(),
    /** POSTed (signed, Standard Webhooks) when the job ends. */
    callbackUrl: httpUrl.optional(),
    /** The same key returns the same job, never a second run (also the `Idempotency-Key` header). */
    idempotencyKey: z.string().min(1).max(255).optional(),
    /** Echoed back in the job (≤ 32 string pairs). */
    metadata: z
      .record(z.string().min(1).max(64), z.string().max(1024))
      .refine((m) => Object.keys(m).length <= 32, { message: 'at most 32 entries' })
      .optional(),
  })
  .strict();
export type JobRequest = z.infer<typeof JobRequestSchema>;

/** Job states; `succeeded`, `failed` and `canceled` are terminal. */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** True for a state a job never leaves. */
export function isTerminalJobState(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'canceled';
}

/** The stages a job goes through, in order. */
export const JOB_STAGES = ['queued', 'fetch', 'decode', 'preprocess', 'network', 'postprocess', 'export', 'upload', 'done'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

/** One result file. */
export const JobFileSchema = z.object({
  /** Relative path, as the reference's export layout (`scene.glb`, `depth_vis/0000.jpg`, …). */
  name: z.string(),
  size: z.number().int().min(0),
  /** Lower-case hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  contentType: z.string(),
  /** Where to GET it: the service's files route (`keep`) or the PUT target without its query. */
  url: z.string().optional(),
});
export type JobFile = z.infer<typeof JobFileSchema>;

/** A failure: a `Da3Error` code (or the protocol's own), a message, and whether retrying may help. */
export const JobErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});
export type JobError = z.infer<typeof JobErrorSchema>;

/** `GET /v1/jobs/:id`. */
export const JobSchema = z.object({
  id: z.string(),
  state: z.enum(JOB_STATES),
  createdAt: z.number(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  /** The current stage and an overall fraction in [0, 1]. */
  progress: z.object({ stage: z.enum(JOB_STAGES), fraction: z.number().min(0).max(1) }),
  /** Milliseconds spent per finished stage. */
  timings: z.record(z.string(), z.number()),
  /** Views processed, known once the inputs are decoded. */
  views: z.number().int().optional(),
  result: z
    .object({
      views: z.number().int(),
      width: z.number().int(),
      height: z.number().int(),
      isMetric: z.boolean(),
      files: z.array(JobFileSchema),
    })
    .optional(),
  error: JobErrorSchema.optional(),
  idempotencyKey: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  /** Set when a cancel was asked for while the job was running (it ends `canceled`). */
  cancelRequested: z.boolean().optional(),
  /** Delivery of the end-of-job callback, when the job has a `callbackUrl`. */
  callback: z
    .object({
      state: z.enum(['pending', 'delivered', 'failed']),
      attempts: z.number().int(),
      error: z.string().optional(),
    })
    .optional(),
});
export type Job = z.infer<typeof JobSchema>;

/** The body of every 4xx/5xx answer. */
export const ApiErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

/** The body POSTed to `callbackUrl` (Standard Webhooks' envelope: type, timestamp, data). */
export interface JobWebhookEvent {
  readonly type: 'job.succeeded' | 'job.failed' | 'job.canceled';
  /** ISO 8601. */
  readonly timestamp: string;
  readonly data: Job;
}

/**
 * Validates a job request; returns it or the list of problems (`path: message`), never throws
 * for bad input.
 */
export function parseJobRequest(value: unknown): { ok: true; request: JobRequest } | { ok: false; issues: { path: string; message: string }[] } {
  const r = JobRequestSchema.safeParse(value);
  if (r.success) return { ok: true, request: r.data };
  return { ok: false, issues: r.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })) };
}
