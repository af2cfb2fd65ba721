/**
 * The interface every backend implements, and what they share: polling until a job ends, and
 * downloading result files with their size and sha256 checked against the job's manifest.
 */
import { type Job, type JobFile, type JobRequest, isTerminalJobState } from '@da3js/core/protocol';
import { Da3ClientError } from './errors.js';
import type { RequestOptions, Transport } from './http.js';

/** Options of `submit`. */
export interface SubmitOptions extends RequestOptions {
  /**
   * The same key returns the same job, never a second run. Default: a fresh random key per
   * `submit` call, so its own retries are safe.
   */
  readonly idempotencyKey?: string;
}

/** Options of `wait`. */
export interface WaitOptions extends RequestOptions {
  /** First delay between two status polls, in ms (default 500; grows ×1.5 up to `maxPollIntervalMs`). */
  readonly pollIntervalMs?: number;
  /** Longest delay between two polls, in ms (default 5000). */
  readonly maxPollIntervalMs?: number;
  /** Give up after this long, in ms (`TIMEOUT`; the job keeps running — cancel it if you want it stopped). */
  readonly deadlineMs?: number;
  /** Called with the job whenever its state, stage or progress changed. */
  readonly onProgress?: (job: Job) => void;
}

/** What `health()` reports. */
export interface BackendHealth {
  readonly ready: boolean;
  /** Jobs waiting on the backend (job protocol backends). */
  readonly queueDepth?: number;
  /** Why it is not ready. */
  readonly reason?: string;
}

/** A downloaded result file, verified against the manifest. */
export interface ResultFile extends JobFile {
  readonly bytes: Uint8Array;
}

/** DA3 as a remote service (see `da3Worker`, `modal`, `replicate`). */
export interface Da3Client {
  /** Which backend: `da3-worker`, `modal`, `replicate`. */
  readonly backend: string;
  /** Sends a job; resolves as soon as it is accepted (queued), or already ended for a replay. */
  submit(request: JobRequest, options?: SubmitOptions): Promise<Job>;
  /** The job's current state. */
  status(id: string, options?: RequestOptions): Promise<Job>;
  /** Asks the backend to stop the job; resolves with its state after the request. */
  cancel(id: string, options?: RequestOptions): Promise<Job>;
  /** Polls until the job is `succeeded`, `failed` or `canceled` and returns it (a failed job is returned, not thrown). */
  wait(id: string, options?: WaitOptions): Promise<Job>;
  /**
   * Whether the backend takes jobs now (`GET /readyz` for the job protocol: ready, queue depth);
   * never throws — an unreachable backend is `{ ready: false, reason }`.
   */
  health(options?: RequestOptions): Promise<BackendHealth>;
  /** Downloads one result file of a succeeded job, checking its size and sha256. */
  download(job: Job, name: string, options?: RequestOptions): Promise<ResultFile>;
  /** Downloads every result file of a succeeded job (copy them now: some backends' URLs expire). */
  result(job: Job, options?: RequestOptions): Promise<ResultFile[]>;
  /**
   * `submit` + `wait` + `result`. Throws `Da3ClientError` when the job does not succeed (code and
   * message from the job's error).
   */
  run(request: JobRequest, options?: SubmitOptions & WaitOptions): Promise<{ job: Job; files: ResultFile[] }>;
}

/** A random idempotency key (crypto.randomUUID). */
export function newIdempotencyKey(): string {
  return `da3-${crypto.randomUUID()}`;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** What backends provide; the shared behaviour is built on it. */
export abstract class BaseClient implements Da3Client {
  abstract readonly backend: string;
  protected abstract readonly transport: Transport;
  abstract submit(request: JobRequest, options?: SubmitOptions): Promise<Job>;
  abstract status(id: string, options?: RequestOptions): Promise<Job>;
  abstract cancel(id: string, options?: RequestOptions): Promise<Job>;
  abstract health(options?: RequestOptions): Promise<BackendHealth>;
  /** The URL and headers to GET a manifest file from (`file.url` is relative for kept files). */
  protected abstract fileRequest(job: Job, file: JobFile): { url: string; headers: Record<string, string> };

  async wait(id: string, options: WaitOptions = {}): Promise<Job> {
    const started = Date.now();
    let interval = options.pollIntervalMs ?? 500;
    let last = '';
    for (;;) {
      const job = await this.status(id, options);
      const seen = `${job.state}|${job.progress.stage}|${job.progress.fraction}`;
      if (seen !== last) {
        last = seen;
        options.onProgress?.(job);
      }
      if (isTerminalJobState(job.state)) return job;
      if (options.deadlineMs !== undefined && Date.now() - started + interval > options.deadlineMs) {
        throw new Da3ClientError('IO', 'TIMEOUT', this.backend, `job ${id} did not end within ${options.deadlineMs / 1000} s (it is ${job.state}; it keeps running)`);
      }
      await this.transport.pause(interval, options.signal);
      interval = Math.min(options.maxPollIntervalMs ?? 5000, interval * 1.5);
    }
  }

  async download(job: Job, name: string, options: RequestOptions = {}): Promise<ResultFile> {
    const file = job.result?.files.find((f) => f.name === name);
    if (!file) throw new Da3ClientError('BAD_VALUE', 'BAD_RESPONSE', this.backend, `job ${job.id} has no result file ${JSON.stringify(name)}`);
    const { url, headers } = this.fileRequest(job, file);
    const res = await this.transport.request(url, () => ({ headers }), 'safe', options);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength !== file.size) {
      throw new Da3ClientError('IO', 'INTEGRITY', this.backend, `${name}: ${bytes.byteLength} bytes arrived, the manifest says ${file.size}`);
    }
    const sha = await sha256Hex(bytes);
    if (sha !== file.sha256) throw new Da3ClientError('IO', 'INTEGRITY', this.backend, `${name}: sha256 ${sha} ≠ the manifest's ${file.sha256}`);
    return { ...file, bytes };
  }

  async result(job: Job, options: RequestOptions = {}): Promise<ResultFile[]> {
    if (job.state !== 'succeeded' || !job.result) {
      throw new Da3ClientError('BAD_VALUE', 'BAD_RESPONSE', this.backend, `job ${job.id} is ${job.state}; only a succeeded job has result files`);
    }
    const files: ResultFile[] = [];
    for (const f of job.result.files) files.push(await this.download(job, f.name, options));
    return files;
  }

  async run(request: JobRequest, options: SubmitOptions & WaitOptions = {}): Promise<{ job: Job; files: ResultFile[] }> {
    const submitted = await this.submit(request, options);
    const job = isTerminalJobState(submitted.state) ? submitted : await this.wait(submitted.id, options);
    if (job.state !== 'succeeded') {
      const e = job.error;
      throw new Da3ClientError(
        'IO',
        'HTTP',
        this.backend,
        `job ${job.id} ended ${job.state}${e ? `: ${e.code}: ${e.message}` : ''}`,
        { body: job },
      );
    }
    return { job, files: this.keepsFiles(request) ? await this.result(job, options) : [] };
  }

  /** Whether a job's result files can be downloaded through this client (not when they went to the caller's PUT target). */
  protected keepsFiles(request: JobRequest): boolean {
    return (request.output?.type ?? 'keep') === 'keep';
  }
}
