/**
 * Backends that speak the da3js job protocol v1 (`docs/job-protocol.md`): apps/gpu-worker and
 * `da3 backend` ({@link da3Worker}), and the same service deployed as a Modal web endpoint
 * ({@link modal}).
 */
import { type Job, type JobFile, type JobRequest, JobSchema } from '@da3js/core/protocol';
import { type BackendHealth, BaseClient, type SubmitOptions, newIdempotencyKey } from './client.js';
import { Da3ClientError } from './errors.js';
import { type RequestOptions, Transport, type TransportOptions } from './http.js';

/** Options of {@link da3Worker}. */
export interface Da3WorkerOptions extends TransportOptions {
  /** The service's base URL (`http://127.0.0.1:8008`, `https://gpu.example.com`). */
  readonly url: string;
  /** The service's bearer token. */
  readonly token: string;
}

/** Options of {@link modal}. */
export interface ModalOptions extends TransportOptions {
  /** The web endpoint (`https://<workspace>--da3-worker.modal.run`). */
  readonly url: string;
  /** Proxy Auth Token id (`wk-…`), sent as `Modal-Key`. */
  readonly tokenId: string;
  /** Proxy Auth Token secret (`ws-…`), sent as `Modal-Secret`. */
  readonly tokenSecret: string;
  /** The service's own bearer token, when the container also checks one. */
  readonly token?: string;
}

function parseJob(value: unknown, backend: string, where: string): Job {
  const r = JobSchema.safeParse(value);
  if (!r.success) throw new Da3ClientError('IO', 'BAD_RESPONSE', backend, `${where}: the answer is not a job (${r.error.issues[0]?.message ?? 'invalid'})`, { body: value });
  return r.data;
}

/** A client of the job protocol; `headers` authenticate every request. */
export class ProtocolClient extends BaseClient {
  protected readonly transport: Transport;
  private readonly base: string;

  constructor(
    readonly backend: string,
    url: string,
    private readonly headers: Readonly<Record<string, string>>,
    options: TransportOptions = {},
  ) {
    super();
    if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) throw new Da3ClientError('BAD_VALUE', 'BAD_RESPONSE', backend, `url must be an http(s) URL, got ${JSON.stringify(url)}`);
    this.base = url.replace(/\/+$/, '');
    this.transport = new Transport(backend, options);
  }

  /** Submits with an idempotency key (given or new), so retries after network errors and 5xx are safe. */
  async submit(request: JobRequest, options: SubmitOptions = {}): Promise<Job> {
    const key = options.idempotencyKey ?? request.idempotencyKey ?? newIdempotencyKey();
    const body = JSON.stringify(request);
    const url = `${this.base}/v1/jobs`;
    const value = await this.transport.json(url, () => ({ method: 'POST', headers: { ...this.headers, 'content-type': 'application/json', 'idempotency-key': key }, body }), 'safe', options);
    return parseJob(value, this.backend, url);
  }

  async status(id: string, options: RequestOptions = {}): Promise<Job> {
    const url = `${this.base}/v1/jobs/${encodeURIComponent(id)}`;
    return parseJob(await this.transport.json(url, () => ({ headers: this.headers }), 'safe', options), this.backend, url);
  }

  async cancel(id: string, options: RequestOptions = {}): Promise<Job> {
    const url = `${this.base}/v1/jobs/${encodeURIComponent(id)}`;
    return parseJob(await this.transport.json(url, () => ({ method: 'DELETE', headers: this.headers }), 'safe', options), this.backend, url);
  }

  async health(options: RequestOptions = {}): Promise<BackendHealth> {
    const url = `${this.base}/readyz`;
    try {
      const signal = AbortSignal.timeout(options.timeoutMs ?? 5000);
      const res = await this.transport.fetchImpl(url, { headers: this.headers, signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal });
      const body = (await res.json().catch(() => ({}))) as { ready?: boolean; queueDepth?: number; reason?: string; error?: { message?: string } };
      if (res.ok && body.ready === true) return { ready: true, queueDepth: typeof body.queueDepth === 'number' ? body.queueDepth : undefined };
      return { ready: false, reason: body.reason ?? body.error?.message ?? `HTTP ${res.status}` };
    } catch (error) {
      return { ready: false, reason: (error as Error).message };
    }
  }

  protected fileRequest(job: Job, file: JobFile): { url: string; headers: Record<string, string> } {
    if (!file.url?.startsWith('/')) {
      throw new Da3ClientError('BAD_VALUE', 'BAD_RESPONSE', this.backend, `job ${job.id}: ${file.name} went to the PUT target (${file.url ?? 'no URL'}); read it from there`);
    }
    return { url: `${this.base}${file.url}`, headers: { ...this.headers } };
  }
}

/**
 * A client of apps/gpu-worker (or `da3 backend`): bearer-token auth, every option of
 * `inference()` in the request, results kept on the worker or PUT to your bucket.
 *
 * ```ts
 * const client = da3Worker({ url: 'http://127.0.0.1:8008', token: process.env.DA3_TOKEN! });
 * const { job, files } = await client.run({ inputs: [{ url: presignedGet }], formats: 'glb' });
 * ```
 */
export function da3Worker(options: Da3WorkerOptions): ProtocolClient {
  return new ProtocolClient('da3-worker', options.url, { authorization: `Bearer ${options.token}` }, options);
}

/**
 * A client of the gpu-worker container deployed as a Modal web endpoint (`@modal.web_server`)
 * behind Modal's proxy auth: `Modal-Key` / `Modal-Secret` on every request. Modal answers a
 * request that takes over 150 s with a 303 to a result URL; `fetch` follows it, and the protocol's
 * requests are short anyway (submit, then poll).
 */
export function modal(options: ModalOptions): ProtocolClient {
  const headers: Record<string, string> = { 'modal-key': options.tokenId, 'modal-secret': options.tokenSecret };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new ProtocolClient('modal', options.url, headers, options);
}
