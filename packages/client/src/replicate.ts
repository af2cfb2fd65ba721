/**
 * Replicate predictions (https://replicate.com/docs/reference/http) as a DA3 backend: the
 * gpu-worker packaged as a Cog model whose `predict` takes
 * `{ images: string[] (URLs or data URIs), options: string (JSON of the job's inference options),
 * formats: string, export_options: string (JSON) }` and returns the job protocol's result
 * (`{ views, width, height, isMetric, files: [{ name, size, sha256, contentType, url }] }`).
 * Predictions become jobs (`starting` → queued, `processing` → running, `aborted` → canceled).
 * Output URLs expire (about an hour), so `result()` copies the files right away.
 */
import type { Job, JobFile, JobRequest, JobState } from '@da3js/core/protocol';
import { type BackendHealth, BaseClient, type SubmitOptions } from './client.js';
import { Da3ClientError } from './errors.js';
import { type RequestOptions, Transport, type TransportOptions } from './http.js';

/** Options of {@link replicate}. */
export interface ReplicateOptions extends TransportOptions {
  /** API token (`r8_…`), sent as `Authorization: Bearer`. */
  readonly token: string;
  /** The model version id of the DA3 Cog model. */
  readonly version: string;
  /** API base (default https://api.replicate.com). */
  readonly baseUrl?: string;
  /** Sync mode: `Prefer: wait=<s>` holds the create request up to this many seconds (1–60; default off). */
  readonly preferWaitSeconds?: number;
}

/** The parts of a Replicate prediction this client reads. */
interface Prediction {
  id: string;
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled' | 'aborted';
  output?: unknown;
  error?: string | null;
  created_at?: string;
  started_at?: string | null;
  completed_at?: string | null;
  metrics?: { predict_time?: number };
}

const STATES: Record<Prediction['status'], JobState> = {
  starting: 'queued',
  processing: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
  aborted: 'canceled',
};

function toDataUri(base64: string): string {
  return `data:application/octet-stream;base64,${base64}`;
}

/** The client of {@link replicate}. */
export class ReplicateClient extends BaseClient {
  readonly backend = 'replicate';
  protected readonly transport: Transport;
  private readonly base: string;

  constructor(private readonly options: ReplicateOptions) {
    super();
    this.base = (options.baseUrl ?? 'https://api.replicate.com').replace(/\/+$/, '');
    this.transport = new Transport('replicate', options);
  }

  private get headers(): Record<string, string> {
    return { authorization: `Bearer ${this.options.token}` };
  }

  /** A prediction → a job of the protocol. */
  toJob(p: Prediction): Job {
    if (!p || typeof p.id !== 'string' || !(p.status in STATES)) throw new Da3ClientError('IO', 'BAD_RESPONSE', 'replicate', 'the answer is not a prediction', { body: p });
    const state = STATES[p.status];
    const at = (s: string | null | undefined) => (s ? Date.parse(s) : undefined);
    const job: Job = {
      id: p.id,
      state,
      createdAt: at(p.created_at) ?? Date.now(),
      progress: { stage: state === 'queued' ? 'queued' : state === 'running' ? 'network' : 'done', fraction: state === 'queued' ? 0 : state === 'running' ? 0.5 : 1 },
      timings: p.metrics?.predict_time !== undefined ? { network: p.metrics.predict_time * 1000 } : {},
    };
    if (at(p.started_at) !== undefined) job.startedAt = at(p.started_at);
    if (at(p.completed_at) !== undefined) job.finishedAt = at(p.completed_at);
    if (state === 'succeeded') {
      const out = p.output as Job['result'];
      if (!out || !Array.isArray(out.files)) throw new Da3ClientError('IO', 'BAD_RESPONSE', 'replicate', `prediction ${p.id}: the output is not a DA3 result`, { body: p });
      job.result = out;
    }
    if (state === 'failed') job.error = { code: 'REPLICATE_FAILED', message: p.error ?? 'the prediction failed', retryable: false };
    return job;
  }

  /** Creates a prediction. Not retried after it may have reached Replicate (it has no idempotency keys). */
  async submit(request: JobRequest, options: SubmitOptions = {}): Promise<Job> {
    if (request.output && request.output.type !== 'keep') {
      throw new Da3ClientError('BAD_VALUE', 'BAD_RESPONSE', 'replicate', 'Replicate keeps outputs itself: output must be { type: "keep" } (or left out)');
    }
    const input = {
      images: request.inputs.map((i) => ('url' in i ? i.url : toDataUri(i.data))),
      options: JSON.stringify(request.options ?? {}),
      formats: Array.isArray(request.formats) ? request.formats.join('-') : (request.formats ?? 'mini_npz'),
      export_options: JSON.stringify(request.exportOptions ?? {}),
    };
    const headers: Record<string, string> = { ...this.headers, 'content-type': 'application/json' };
    if (this.options.preferWaitSeconds) headers.prefer = `wait=${Math.max(1, Math.min(60, Math.round(this.options.preferWaitSeconds)))}`;
    const body = JSON.stringify({ version: this.options.version, input });
    const p = await this.transport.json<Prediction>(`${this.base}/v1/predictions`, () => ({ method: 'POST', headers, body }), 'unsafe', {
      ...options,
      timeoutMs: options.timeoutMs ?? Math.max(this.transport.timeoutMs, ((this.options.preferWaitSeconds ?? 0) + 10) * 1000),
    });
    return this.toJob(p);
  }

  async status(id: string, options: RequestOptions = {}): Promise<Job> {
    return this.toJob(await this.transport.json<Prediction>(`${this.base}/v1/predictions/${encodeURIComponent(id)}`, () => ({ headers: this.headers }), 'safe', options));
  }

  async cancel(id: string, options: RequestOptions = {}): Promise<Job> {
    return this.toJob(await this.transport.json<Prediction>(`${this.base}/v1/predictions/${encodeURIComponent(id)}/cancel`, () => ({ method: 'POST', headers: this.headers }), 'safe', options));
  }

  /** Replicate queues and scales by itself: always ready as far as this client can tell. */
  async health(): Promise<BackendHealth> {
    return { ready: true };
  }

  protected fileRequest(job: Job, file: JobFile): { url: string; headers: Record<string, string> } {
    if (!file.url || !/^https?:\/\//i.test(file.url)) throw new Da3ClientError('IO', 'BAD_RESPONSE', 'replicate', `prediction ${job.id}: ${file.name} has no output URL`);
    // The token goes to Replicate's API origin only, never to a delivery CDN.
    return { url: file.url, headers: new URL(file.url).origin === new URL(this.base).origin ? this.headers : {} };
  }

  protected override keepsFiles(): boolean {
    return true;
  }
}

/**
 * A client of Replicate predictions running the DA3 Cog model (see the module comment for the
 * model's input and output). Long jobs are submit + poll; `preferWaitSeconds` asks for sync mode.
 */
export function replicate(options: ReplicateOptions): ReplicateClient {
  return new ReplicateClient(options);
}
