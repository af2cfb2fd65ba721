/**
 * The inference service: one resident model, a bounded FIFO of jobs run one at a time, persisted
 * job records, signed callbacks, metrics and a graceful shutdown. HTTP comes from {@link createServiceApp}
 * (Hono); `da3 backend` and apps/gpu-worker serve the same object (see `serveInferenceService`).
 */
import { join } from 'node:path';
import { Da3Error } from '@da3js/core';
import { type Job, type JobRequest, type JobState, type JobWebhookEvent, isTerminalJobState } from '@da3js/core/protocol';
import type { Hono } from 'hono';
import { createServiceApp } from './app.js';
import { ServiceMetrics } from './metrics.js';
import { type ResolvedServiceOptions, type ServiceOptions, hostAllowed, resolveServiceOptions } from './options.js';
import { type ServiceModel, jobErrorOf, runJob } from './runner.js';
import { type JobRecord, JobStore, requestHash } from './store.js';
import { deliverCallback } from './transfer.js';

/** The abort reason of a job stopped by a shutdown's deadline (it ends `failed` / `SHUTDOWN`). */
const SHUTDOWN = new Da3Error('IO', 'the service was shutting down and its grace period ran out while this job ran; submit it again');

/** Why a submission was refused (the app maps these to HTTP statuses). */
export type SubmitRefusal =
  | { readonly kind: 'invalid'; readonly code: string; readonly message: string }
  | { readonly kind: 'conflict'; readonly message: string }
  | { readonly kind: 'busy'; readonly retryAfterSeconds: number; readonly draining: boolean };

/** The result of {@link InferenceService.submit}. */
export type SubmitResult = { readonly ok: true; readonly job: Job; readonly replayed: boolean } | ({ readonly ok: false } & SubmitRefusal);

/** A running inference service (see the module comment). */
export interface InferenceService {
  /** The HTTP API (`app.fetch` is a standard fetch handler). */
  readonly app: Hono;
  readonly options: ResolvedServiceOptions;
  /** True once `shutdown` began: new jobs are refused with 503. */
  readonly draining: boolean;
  submit(request: JobRequest, idempotencyKey?: string): Promise<SubmitResult>;
  get(id: string): Job | undefined;
  /** Cancels a queued job at once, a running one at its next stage; undefined for an unknown id. */
  cancel(id: string): Promise<Job | undefined>;
  /** The kept file of a job (absolute path inside the job's folder), or undefined. */
  filePath(id: string, name: string): string | undefined;
  /** Jobs waiting (not counting the running one). */
  queueDepth(): number;
  metricsText(): string;
  /** Resolves when every job submitted so far has ended (tests, drains). */
  idle(): Promise<void>;
  /**
   * Stops accepting jobs (503), lets the running job finish within `graceMs` (else it ends
   * `failed` / `SHUTDOWN`), leaves queued jobs queued on disk for the next start, and waits for
   * pending callbacks up to the same deadline.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * Creates the service over a loaded model: reloads the state folder (queued jobs run again, jobs
 * that were running end `failed` / `INTERRUPTED`) and starts the queue.
 * @throws {Da3Error} `BAD_VALUE` without a token, or with a malformed webhook secret
 */
export async function createInferenceService(model: ServiceModel, serviceOptions: ServiceOptions): Promise<InferenceService> {
  const options = resolveServiceOptions(serviceOptions);
  if (typeof options.token !== 'string' || options.token.length < 16) {
    throw new Da3Error('BAD_VALUE', 'inference service: a bearer token of at least 16 characters is required (token option, DA3_TOKEN)');
  }
  if (options.webhookSecret !== undefined && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(options.webhookSecret)) {
    throw new Da3Error('BAD_VALUE', 'inference service: the webhook secret must be "whsec_" + base64');
  }
  const store = new JobStore(options.stateDir);
  const metrics = new ServiceMetrics();
  const queue: string[] = [];
  const controllers = new Map<string, AbortController>();
  const callbacks = new Set<Promise<void>>();
  const waiters: (() => void)[] = [];
  let running: string | undefined;
  let reserved = 0;
  let draining = false;
  let pumping: Promise<void> | undefined;

  const notifyIdle = () => {
    if (running === undefined && queue.length === 0) for (const w of waiters.splice(0)) w();
  };

  const finish = async (record: JobRecord, patch: Partial<Job>) => {
    const job = await store.update(record.job.id, { ...patch, finishedAt: Date.now() });
    metrics.finished[job.state]++;
    if (job.startedAt !== undefined) metrics.jobs.observe((job.finishedAt! - job.startedAt) / 1000);
    if (record.request.callbackUrl && options.webhookSecret) {
      const p = sendCallback(record, job).finally(() => callbacks.delete(p));
      callbacks.add(p);
    }
    await store.evict(options.jobTtlMs, options.keepJobs);
  };

  const sendCallback = async (record: JobRecord, job: Job) => {
    const event: JobWebhookEvent = { type: `job.${job.state as 'succeeded' | 'failed' | 'canceled'}`, timestamp: new Date().toISOString(), data: job };
    await store.update(job.id, { callback: { state: 'pending', attempts: 0 } });
    try {
      const attempts = await deliverCallback(record.request.callbackUrl!, `${job.id}.${job.state}`, JSON.stringify(event), options.webhookSecret!, {
        attempts: options.callbackAttempts,
        firstDelayMs: options.retryDelayMs,
        timeoutMs: options.networkTimeoutMs,
      });
      if (store.get(job.id)) await store.update(job.id, { callback: { state: 'delivered', attempts } });
    } catch (error) {
      if (store.get(job.id)) await store.update(job.id, { callback: { state: 'failed', attempts: options.callbackAttempts, error: (error as Error).message } });
    }
  };

  const runOne = async (id: string) => {
    const record = store.get(id);
    if (record?.job.state !== 'queued') return;
    const controller = new AbortController();
    controllers.set(id, controller);
    running = id;
    const started = Date.now();
    await store.update(id, { state: 'running', startedAt: started });
    try {
      const inferenceStart = { at: 0 };
      const result = await runJob({
        id,
        request: record.request,
        model: {
          kind: model.kind,
          get device() {
            return model.device;
          },
          inference: async (images, o) => {
            inferenceStart.at = Date.now();
            try {
              return await model.inference(images, o);
            } finally {
              metrics.inference.observe((Date.now() - inferenceStart.at) / 1000);
            }
          },
        },
        options,
        jobDir: store.jobDir(id),
        filesDir: store.filesDir(id),
        signal: controller.signal,
        update: async (patch) => {
          await store.update(id, patch);
        },
        filesRoute: `/v1/jobs/${id}/files/`,
      });
      if (controller.signal.aborted) await finish(record, { state: 'canceled' });
      else await finish(record, { state: 'succeeded', result });
    } catch (error) {
      if (controller.signal.reason === SHUTDOWN) {
        await finish(record, { state: 'failed', error: { code: 'SHUTDOWN', message: SHUTDOWN.message, retryable: true } });
      } else if (controller.signal.aborted) {
        await finish(record, { state: 'canceled' });
      } else {
        await finish(record, { state: 'failed', error: jobErrorOf(error) });
      }
    } finally {
      controllers.delete(id);
      running = undefined;
    }
  };

  const drain = async () => {
    while (!draining && queue.length > 0) await runOne(queue.shift()!);
  };
  const pump = () => {
    if (pumping || draining || queue.length === 0) return;
    pumping = drain().finally(() => {
      pumping = undefined;
      if (queue.length > 0) pump();
      else notifyIdle();
    });
  };

  const loaded = await store.load();
  queue.push(...loaded.requeue);

  const service: InferenceService = {
    app: undefined as unknown as Hono,
    options,
    get draining() {
      return draining;
    },
    async submit(request, headerKey) {
      const key = headerKey ?? request.idempotencyKey;
      if (headerKey && request.idempotencyKey && headerKey !== request.idempotencyKey) {
        return { ok: false, kind: 'invalid', code: 'BAD_VALUE', message: 'the Idempotency-Key header and the body idempotencyKey differ' };
      }
      if (key) {
        const existing = store.byIdempotencyKey(key);
        if (existing) {
          if (existing.requestHash !== requestHash(request)) {
            return { ok: false, kind: 'conflict', message: `the idempotency key ${JSON.stringify(key)} was used for another request` };
          }
          return { ok: true, job: existing.job, replayed: true };
        }
      }
      const refusal = checkUrls(request, options);
      if (refusal) return { ok: false, ...refusal };
      if (request.callbackUrl && !options.webhookSecret) {
        return { ok: false, kind: 'invalid', code: 'BAD_VALUE', message: 'callbackUrl needs the service to have a webhook secret (webhookSecret option, DA3_WEBHOOK_SECRET)' };
      }
      // Capacity is checked here, after the body was read and validated: a slow upload cannot
      // hold a place, and concurrent submissions are counted one by one.
      if (draining || queue.length + reserved + (running ? 1 : 0) >= options.maxQueue) {
        metrics.rejected++;
        const mean = metrics.jobs.mean() ?? 5;
        return { ok: false, kind: 'busy', draining, retryAfterSeconds: Math.min(600, Math.max(1, Math.ceil(mean * (queue.length + 1)))) };
      }
      // The place is taken before the first await, so concurrent submissions cannot overbook.
      reserved++;
      let record: JobRecord;
      try {
        record = await store.create(request, key);
      } finally {
        reserved--;
      }
      queue.push(record.job.id);
      pump();
      return { ok: true, job: record.job, replayed: false };
    },
    get(id) {
      return JobStore.isJobId(id) ? store.get(id)?.job : undefined;
    },
    async cancel(id) {
      if (!JobStore.isJobId(id)) return undefined;
      const record = store.get(id);
      if (!record) return undefined;
      if (isTerminalJobState(record.job.state)) return record.job;
      const at = queue.indexOf(id);
      if (at >= 0) {
        queue.splice(at, 1);
        await finish(record, { state: 'canceled' });
        notifyIdle();
        return store.get(id)?.job;
      }
      await store.update(id, { cancelRequested: true });
      controllers.get(id)?.abort(new Da3Error('BAD_VALUE', 'the job was canceled'));
      return store.get(id)?.job;
    },
    filePath(id, name) {
      const record = JobStore.isJobId(id) ? store.get(id) : undefined;
      if (!record?.job.result?.files.some((f) => f.name === name)) return undefined;
      return join(store.filesDir(id), ...name.split('/'));
    },
    queueDepth: () => queue.length,
    metricsText: () => metrics.render({ queueDepth: queue.length, byState: store.countByState(), device: model.device?.device }),
    idle: () =>
      new Promise<void>((ok) => {
        waiters.push(ok);
        notifyIdle();
      }),
    async shutdown(graceMs = 60_000) {
      draining = true;
      const deadline = new Promise<'timeout'>((ok) => setTimeout(() => ok('timeout'), graceMs).unref());
      if (pumping) {
        const outcome = await Promise.race([pumping.then(() => 'done' as const), deadline]);
        if (outcome === 'timeout' && running) {
          controllers.get(running)?.abort(SHUTDOWN);
          await pumping;
        }
      }
      await Promise.race([Promise.allSettled([...callbacks]), deadline]);
    },
  };
  (service as { app: Hono }).app = createServiceApp(service);
  pump();
  return service;
}

/** Every URL of a request must be allowed (inputs, PUT targets, callback). */
function checkUrls(request: JobRequest, options: ResolvedServiceOptions): SubmitRefusal | undefined {
  const urls = [
    ...request.inputs.flatMap((i) => ('url' in i ? [i.url] : [])),
    ...(request.output?.type === 'put' ? Object.values(request.output.urls) : []),
    ...(request.callbackUrl ? [request.callbackUrl] : []),
  ];
  for (const u of urls) {
    if (!hostAllowed(new URL(u), options.allowedHosts)) {
      return { kind: 'invalid', code: 'URL_NOT_ALLOWED', message: `${new URL(u).host} is not an allowed host of this service (allowedHosts)` };
    }
  }
  return undefined;
}

/** Re-exported for the app and tests. */
export type { JobState };
