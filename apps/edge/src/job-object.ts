/**
 * One Durable Object per job: the job's state machine, strongly consistent, persisted.
 *
 * queued(attempt n) ──claim n──► (lease) ──submitted──► running ──backend done──► succeeded
 *        ▲                                                  │ retryable failure, n < max
 *        └──────────────────── attempt n+1 (re-queued) ◄────┘            otherwise ► failed
 * any non-terminal state ──cancel──► canceled
 *
 * - `claim(n)` succeeds once per attempt (a lease): duplicate queue deliveries are refused, and a
 *   consumer that failed to submit releases it for the queue's retry.
 * - Results are written under `out/<job>/a<n>/` — a late or duplicate completion of another
 *   attempt is ignored, so no result is ever duplicated or mixed.
 * - The alarm polls the backend (fallback when callbacks do not arrive), ends attempts that run past
 *   their deadline, and delivers the user's webhook with retries.
 */
import { type Job, type JobError, type JobFile, type JobState, isTerminalJobState, signWebhook } from '@da3js/core/protocol';
import { DurableObject } from 'cloudflare:workers';
import { backendAt } from './backends.js';
import { type Env, settings } from './env.js';
import type { EdgeJobRequest } from './schemas.js';

/** Where an input lives: an object of the bucket. */
export interface StoredInput {
  readonly key: string;
  readonly size: number;
  readonly kind?: 'image' | 'video';
  readonly name?: string;
}

/** The job as the object keeps it. */
export interface EdgeJob {
  readonly id: string;
  readonly keyId: string;
  state: JobState;
  readonly createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  progress: Job['progress'];
  timings: Record<string, number>;
  views?: number;
  readonly inputs: readonly StoredInput[];
  readonly request: Omit<EdgeJobRequest, 'inputs'>;
  /** The current attempt (1-based). */
  attempt: number;
  /** The claim of the current attempt, until this time. */
  leaseUntil?: number;
  /** Set while the results of the current attempt are being copied into R2. */
  collectingSince?: number;
  backend?: { index: number; name: string; jobId: string; output: 'put' | 'keep'; submittedAt: number };
  result?: NonNullable<Job['result']>;
  error?: JobError;
  cancelRequested?: boolean;
  /** Every attempt that ended without a result: for the retry counts. */
  readonly history: { attempt: number; backend?: string; error: JobError; at: number }[];
  webhook?: { state: 'pending' | 'delivered' | 'failed'; attempts: number; nextAt?: number; error?: string };
}

const LEASE_MS = 60_000;
const COLLECT_MS = 5 * 60_000;
const WEBHOOK_ATTEMPTS = 6;

/** The object keys of an attempt's results. */
export function resultPrefix(jobId: string, attempt: number): string {
  return `out/${jobId}/a${attempt}/`;
}

/** The job as the API shows it (the protocol's `Job`, plus `attempt`). */
export function publicJob(j: EdgeJob): Job & { attempt: number } {
  return {
    id: j.id,
    state: j.state,
    createdAt: j.createdAt,
    ...(j.startedAt !== undefined ? { startedAt: j.startedAt } : {}),
    ...(j.finishedAt !== undefined ? { finishedAt: j.finishedAt } : {}),
    progress: j.progress,
    timings: j.timings,
    ...(j.views !== undefined ? { views: j.views } : {}),
    ...(j.result ? { result: j.result } : {}),
    ...(j.error ? { error: j.error } : {}),
    ...(j.request.idempotencyKey ? { idempotencyKey: j.request.idempotencyKey } : {}),
    ...(j.request.metadata ? { metadata: j.request.metadata } : {}),
    ...(j.cancelRequested ? { cancelRequested: true } : {}),
    ...(j.webhook ? { callback: { state: j.webhook.state, attempts: j.webhook.attempts, ...(j.webhook.error ? { error: j.webhook.error } : {}) } } : {}),
    attempt: j.attempt,
  };
}

export class JobObject extends DurableObject<Env> {
  private async load(): Promise<EdgeJob | undefined> {
    return this.ctx.storage.get<EdgeJob>('job');
  }

  private async save(job: EdgeJob): Promise<void> {
    await this.ctx.storage.put('job', job);
  }

  /** Creates the job (idempotent: an existing job is returned as it is). */
  async create(job: EdgeJob): Promise<EdgeJob> {
    const existing = await this.load();
    if (existing) return existing;
    await this.save(job);
    return job;
  }

  async get(): Promise<EdgeJob | undefined> {
    return this.load();
  }

  /** Claims `attempt` for one queue consumer (see the module comment). */
  async claim(attempt: number, now = Date.now()): Promise<EdgeJob | undefined> {
    const job = await this.load();
    if (!job || isTerminalJobState(job.state) || job.attempt !== attempt || job.backend || (job.leaseUntil ?? 0) > now) return undefined;
    job.leaseUntil = now + LEASE_MS;
    await this.save(job);
    return job;
  }

  /** Gives a claim back (the consumer could not submit; the queue retries the message). */
  async release(attempt: number): Promise<void> {
    const job = await this.load();
    if (!job || job.attempt !== attempt || job.backend) return;
    job.leaseUntil = undefined;
    await this.save(job);
  }

  /** Records the backend job of `attempt` and starts polling it. */
  async submitted(attempt: number, backend: NonNullable<EdgeJob['backend']>): Promise<void> {
    const job = await this.load();
    if (!job || job.attempt !== attempt || job.backend) return;
    if (isTerminalJobState(job.state)) {
      // Canceled while it was being submitted: stop the backend job too.
      await backendAt(settings(this.env).backends, backend.index, settings(this.env).backendTimeoutMs)?.client.cancel(backend.jobId).catch(() => undefined);
      return;
    }
    job.backend = backend;
    job.state = 'running';
    job.startedAt ??= backend.submittedAt;
    job.leaseUntil = undefined;
    job.progress = { stage: 'queued', fraction: 0 };
    await this.save(job);
    await this.schedule(job);
  }

  /** An attempt that could not be dispatched at all (dead-letter queue): the job fails with the reason. */
  async dispatchFailed(attempt: number, message: string): Promise<void> {
    const job = await this.load();
    if (!job || job.attempt !== attempt || job.backend || isTerminalJobState(job.state)) return;
    await this.end(job, 'failed', { code: 'DISPATCH_FAILED', message, retryable: true });
  }

  /** A backend's word on `attempt` (its callback, or a poll): progress, or the end of the attempt. */
  async backendUpdate(attempt: number, remote: Job): Promise<void> {
    const job = await this.load();
    if (!job || job.attempt !== attempt || !job.backend || isTerminalJobState(job.state)) return;
    if (remote.id !== job.backend.jobId) return;
    if (!isTerminalJobState(remote.state)) {
      job.progress = remote.progress;
      job.timings = remote.timings;
      if (remote.views !== undefined) job.views = remote.views;
      await this.save(job);
      return;
    }
    if (remote.state === 'succeeded' && remote.result) {
      // One collection per attempt: a callback and a poll arriving together must not both copy.
      if (job.collectingSince !== undefined && Date.now() - job.collectingSince < COLLECT_MS) return;
      job.collectingSince = Date.now();
      await this.save(job);
      let result: NonNullable<Job['result']>;
      try {
        result = await this.collect(job, remote);
      } catch (error) {
        const again = await this.load();
        if (again && again.attempt === attempt && !isTerminalJobState(again.state)) {
          again.collectingSince = undefined;
          await this.attemptFailed(again, { code: 'IO', message: `collecting the results failed: ${(error as Error).message}`, retryable: true });
        }
        return;
      }
      const fresh = await this.load();
      if (!fresh || fresh.attempt !== attempt || isTerminalJobState(fresh.state)) return; // canceled meanwhile
      fresh.result = result;
      fresh.views = remote.result.views;
      fresh.timings = remote.timings;
      await this.end(fresh, 'succeeded');
      return;
    }
    const error = remote.error ?? { code: remote.state === 'canceled' ? 'CANCELED_BY_BACKEND' : 'FAILED', message: `the backend ended the job ${remote.state}`, retryable: true };
    await this.attemptFailed(job, error);
  }

  /** Cancels the job (a running backend job is asked to stop, best effort). */
  async cancel(): Promise<EdgeJob | undefined> {
    const job = await this.load();
    if (!job || isTerminalJobState(job.state)) return job;
    const backend = job.backend ? backendAt(settings(this.env).backends, job.backend.index, settings(this.env).backendTimeoutMs) : undefined;
    if (backend && job.backend) await backend.client.cancel(job.backend.jobId).catch(() => undefined);
    job.cancelRequested = true;
    await this.end(job, 'canceled');
    return job;
  }

  /** The result manifest, with the files in R2: checked there (PUT outputs) or copied from the backend (kept outputs). */
  private async collect(job: EdgeJob, remote: Job): Promise<NonNullable<Job['result']>> {
    const prefix = resultPrefix(job.id, job.attempt);
    const files: JobFile[] = [];
    const backend = backendAt(settings(this.env).backends, job.backend!.index, settings(this.env).backendTimeoutMs);
    for (const f of remote.result!.files) {
      if (job.backend!.output === 'put') {
        const head = await this.env.BUCKET.head(prefix + f.name);
        if (!head || head.size !== f.size) throw new Error(`${f.name} is not in R2 with ${f.size} bytes`);
      } else {
        if (!backend) throw new Error(`backend #${job.backend!.index} is no longer configured`);
        const file = await backend.client.download(remote, f.name, { timeoutMs: 120_000 });
        await this.env.BUCKET.put(prefix + f.name, file.bytes, { httpMetadata: { contentType: f.contentType }, sha256: f.sha256 });
      }
      files.push({ name: f.name, size: f.size, sha256: f.sha256, contentType: f.contentType, url: `/v1/jobs/${job.id}/files/${f.name.split('/').map(encodeURIComponent).join('/')}` });
    }
    return { ...remote.result!, files };
  }

  /** An attempt ended without a result: the next attempt (re-queued with backoff), or the end. */
  private async attemptFailed(job: EdgeJob, error: JobError): Promise<void> {
    const s = settings(this.env);
    job.history.push({ attempt: job.attempt, backend: job.backend?.name, error, at: Date.now() });
    job.collectingSince = undefined;
    if (error.retryable && job.attempt < s.maxAttempts) {
      job.attempt += 1;
      job.backend = undefined;
      job.leaseUntil = undefined;
      job.state = 'queued';
      job.progress = { stage: 'queued', fraction: 0 };
      await this.save(job);
      await this.env.DISPATCH.send({ jobId: job.id, attempt: job.attempt }, { delaySeconds: Math.min(60, 2 ** (job.attempt - 1)) });
      return;
    }
    const exhausted = error.retryable ? { ...error, code: 'ATTEMPTS_EXHAUSTED', message: `${job.attempt} attempt(s) failed; the last: ${error.code}: ${error.message}` } : error;
    await this.end(job, 'failed', exhausted);
  }

  private async end(job: EdgeJob, state: 'succeeded' | 'failed' | 'canceled', error?: JobError): Promise<void> {
    job.state = state;
    job.finishedAt = Date.now();
    job.leaseUntil = undefined;
    if (state === 'succeeded') job.progress = { stage: 'done', fraction: 1 };
    if (error) job.error = error;
    if (job.request.callbackUrl && this.env.WEBHOOK_SECRET) job.webhook = { state: 'pending', attempts: 0, nextAt: Date.now() };
    await this.save(job);
    await this.schedule(job);
  }

  /** One alarm for everything time-driven: the next poll, the attempt deadline, the next webhook try. */
  private async schedule(job: EdgeJob): Promise<void> {
    const s = settings(this.env);
    const times: number[] = [];
    if (job.state === 'running' && job.backend) times.push(Math.min(Date.now() + s.pollIntervalMs, job.backend.submittedAt + s.attemptTimeoutMs));
    if (job.webhook?.state === 'pending' && job.webhook.nextAt !== undefined) times.push(job.webhook.nextAt);
    if (times.length) await this.ctx.storage.setAlarm(Math.min(...times));
  }

  override async alarm(): Promise<void> {
    const job = await this.load();
    if (!job) return;
    const s = settings(this.env);
    const now = Date.now();
    if (job.state === 'running' && job.backend) {
      const backend = backendAt(s.backends, job.backend.index, s.backendTimeoutMs);
      if (now - job.backend.submittedAt >= s.attemptTimeoutMs) {
        await backend?.client.cancel(job.backend.jobId).catch(() => undefined);
        await this.attemptFailed(job, { code: 'ATTEMPT_TIMEOUT', message: `no result from ${job.backend.name} within ${s.attemptTimeoutMs / 1000} s`, retryable: true });
      } else if (backend) {
        try {
          await this.backendUpdate(job.attempt, await backend.client.status(job.backend.jobId, { timeoutMs: 10_000 }));
        } catch {
          // The backend did not answer this poll: the next one (or the deadline) decides.
        }
      }
    }
    const latest = (await this.load())!;
    if (latest.webhook?.state === 'pending' && (latest.webhook.nextAt ?? 0) <= now) await this.deliverWebhook(latest);
    await this.schedule((await this.load())!);
  }

  private async deliverWebhook(job: EdgeJob): Promise<void> {
    const hook = job.webhook!;
    const body = JSON.stringify({ type: `job.${job.state}`, timestamp: new Date().toISOString(), data: publicJob(job) });
    let ok = false;
    let why = '';
    try {
      const res = await fetch(job.request.callbackUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signWebhook(this.env.WEBHOOK_SECRET!, `${job.id}.${job.state}`, body) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      ok = res.ok;
      why = `HTTP ${res.status}`;
      await res.body?.cancel();
    } catch (error) {
      why = (error as Error).message;
    }
    hook.attempts += 1;
    if (ok) {
      hook.state = 'delivered';
      hook.nextAt = undefined;
    } else if (hook.attempts >= WEBHOOK_ATTEMPTS) {
      hook.state = 'failed';
      hook.error = why;
      hook.nextAt = undefined;
    } else {
      hook.error = why;
      hook.nextAt = Date.now() + 1000 * 2 ** (hook.attempts - 1);
    }
    await this.save(job);
  }
}
