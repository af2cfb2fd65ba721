/**
 * The edge API's bindings (wrangler.jsonc) and settings, read and checked in one place.
 */
import type { JobObject } from './job-object.js';

/** A message of the dispatch queue: run `attempt` of job `jobId`. */
export interface DispatchMessage {
  readonly jobId: string;
  readonly attempt: number;
}

/** Every binding and variable of the Worker. */
export interface Env {
  readonly BUCKET: R2Bucket;
  readonly JOBS: DurableObjectNamespace<JobObject>;
  readonly DISPATCH: Queue<DispatchMessage>;
  readonly DB: D1Database;
  readonly PUBLIC_URL: string;
  readonly UPLOAD_MODE?: string;
  readonly S3_ENDPOINT?: string;
  readonly S3_BUCKET?: string;
  readonly S3_ACCESS_KEY_ID?: string;
  readonly S3_SECRET_ACCESS_KEY?: string;
  readonly MAX_ATTEMPTS?: string;
  readonly RATE_LIMIT_PER_MINUTE?: string;
  readonly POLL_INTERVAL_SECONDS?: string;
  readonly ATTEMPT_TIMEOUT_SECONDS?: string;
  readonly MAX_INLINE_BYTES?: string;
  readonly MAX_UPLOAD_BYTES?: string;
  /** Largest input total (bytes) forwarded inline to a GPU backend instead of by URL (default 0: always by URL). */
  readonly FORWARD_INLINE_BYTES?: string;
  /**
   * `put` (default): GPU workers PUT results straight into R2 through signed URLs (needs
   * PUBLIC_URL or S3 reachable from them); `keep`: they keep results and the job's object copies
   * them into R2 when the job ends.
   */
  readonly OUTPUT_MODE?: string;
  /** Per-request timeout towards GPU backends, seconds (default 20). */
  readonly BACKEND_TIMEOUT_SECONDS?: string;
  /** First delay of the dispatch queue's retries, seconds (default 5; doubled per retry). */
  readonly RETRY_BASE_SECONDS?: string;
  /** `on` (default): GPU workers call back when a job ends (needs PUBLIC_URL reachable from them); `off`: polling only. */
  readonly WORKER_CALLBACKS?: string;
  /** Secrets. */
  readonly ADMIN_TOKEN?: string;
  readonly URL_SIGNING_KEY?: string;
  readonly GPU_BACKENDS?: string;
  readonly WORKER_WEBHOOK_SECRET?: string;
  readonly WEBHOOK_SECRET?: string;
}

/** One GPU backend, as `GPU_BACKENDS` (a JSON array) lists them. */
export type BackendConfig =
  | { readonly type: 'da3-worker'; readonly name?: string; readonly url: string; readonly token: string }
  | { readonly type: 'modal'; readonly name?: string; readonly url: string; readonly tokenId: string; readonly tokenSecret: string; readonly token?: string }
  | { readonly type: 'replicate'; readonly name?: string; readonly token: string; readonly version: string; readonly baseUrl?: string };

/** The settings the code uses, with defaults. */
export interface Settings {
  readonly publicUrl: string;
  readonly uploadMode: 'worker' | 's3';
  readonly maxAttempts: number;
  readonly ratePerMinute: number;
  readonly pollIntervalMs: number;
  readonly attemptTimeoutMs: number;
  readonly maxInlineBytes: number;
  readonly maxUploadBytes: number;
  readonly forwardInlineBytes: number;
  readonly outputMode: 'put' | 'keep';
  readonly backendTimeoutMs: number;
  readonly retryBaseSeconds: number;
  readonly workerCallbacks: boolean;
  readonly backends: readonly BackendConfig[];
}

function num(value: string | undefined, fallback: number, name: string, min = 0): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`edge settings: ${name} must be a number ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** Parses `GPU_BACKENDS`; a malformed entry is a deployment error (thrown, naming the entry). */
export function parseBackends(text: string | undefined): BackendConfig[] {
  if (!text) return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw new Error('edge settings: GPU_BACKENDS must be a JSON array');
  }
  if (!Array.isArray(list)) throw new Error('edge settings: GPU_BACKENDS must be a JSON array');
  return list.map((b, i) => {
    const ok =
      b &&
      ((b.type === 'da3-worker' && typeof b.url === 'string' && typeof b.token === 'string') ||
        (b.type === 'modal' && typeof b.url === 'string' && typeof b.tokenId === 'string' && typeof b.tokenSecret === 'string') ||
        (b.type === 'replicate' && typeof b.token === 'string' && typeof b.version === 'string'));
    if (!ok) throw new Error(`edge settings: GPU_BACKENDS[${i}] must be {type: "da3-worker", url, token} | {type: "modal", url, tokenId, tokenSecret} | {type: "replicate", token, version}`);
    return b as BackendConfig;
  });
}

export function settings(env: Env): Settings {
  return {
    publicUrl: env.PUBLIC_URL.replace(/\/+$/, ''),
    uploadMode: env.UPLOAD_MODE === 's3' ? 's3' : 'worker',
    maxAttempts: num(env.MAX_ATTEMPTS, 3, 'MAX_ATTEMPTS', 1),
    ratePerMinute: num(env.RATE_LIMIT_PER_MINUTE, 120, 'RATE_LIMIT_PER_MINUTE', 1),
    pollIntervalMs: num(env.POLL_INTERVAL_SECONDS, 10, 'POLL_INTERVAL_SECONDS') * 1000,
    attemptTimeoutMs: num(env.ATTEMPT_TIMEOUT_SECONDS, 900, 'ATTEMPT_TIMEOUT_SECONDS', 1) * 1000,
    maxInlineBytes: num(env.MAX_INLINE_BYTES, 8 * 2 ** 20, 'MAX_INLINE_BYTES'),
    maxUploadBytes: num(env.MAX_UPLOAD_BYTES, 2 ** 30, 'MAX_UPLOAD_BYTES'),
    forwardInlineBytes: num(env.FORWARD_INLINE_BYTES, 0, 'FORWARD_INLINE_BYTES'),
    outputMode: env.OUTPUT_MODE === 'keep' ? 'keep' : 'put',
    backendTimeoutMs: num(env.BACKEND_TIMEOUT_SECONDS, 20, 'BACKEND_TIMEOUT_SECONDS', 0.1) * 1000,
    retryBaseSeconds: num(env.RETRY_BASE_SECONDS, 5, 'RETRY_BASE_SECONDS'),
    workerCallbacks: env.WORKER_CALLBACKS !== 'off',
    backends: parseBackends(env.GPU_BACKENDS),
  };
}
