/**
 * The dispatch queue's consumers. For each message `{ jobId, attempt }`: claim the attempt from the
 * job's Durable Object (exactly once per attempt), pick a ready GPU backend, and submit the job with
 * `@da3js/client` — inputs as short-lived GET URLs (or inline when small), outputs as PUT URLs into
 * R2 when their names are known (else kept by the backend and copied on completion), a signed
 * callback to this API, and the idempotency key `<job>.<attempt>` so a retried submit never starts
 * a second run. Failures that may pass are retried by the queue (backoff); messages that exhaust
 * the queue's retries land in the dead-letter queue, whose consumer ends the job `failed`.
 */
import { isClientError } from '@da3js/client';
import type { JobInput, JobRequest } from '@da3js/core/protocol';
import { expectedExportFiles } from '@da3js/exporters';
import { type Backend, chooseBackend, markUnhealthy } from './backends.js';
import type { DispatchMessage, Env, Settings } from './env.js';
import { settings } from './env.js';
import { type EdgeJob, resultPrefix } from './job-object.js';
import { signedObjectUrl } from './signing.js';

const INPUT_URL_TTL_S = 2 * 3600;
const OUTPUT_URL_TTL_S = 6 * 3600;

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The job request a backend gets for `attempt` of `job`. */
async function backendRequest(env: Env, s: Settings, job: EdgeJob, backend: Backend): Promise<{ request: JobRequest; output: 'put' | 'keep' }> {
  const total = job.inputs.reduce((a, i) => a + i.size, 0);
  const inline = total <= s.forwardInlineBytes;
  const inputs: JobInput[] = [];
  for (const input of job.inputs) {
    const meta = { ...(input.kind ? { kind: input.kind } : {}), ...(input.name ? { name: input.name } : {}) };
    if (inline) {
      const object = await env.BUCKET.get(input.key);
      if (!object) throw new Error(`input ${input.key} is gone from the bucket`);
      inputs.push({ data: base64(new Uint8Array(await object.arrayBuffer())), ...meta });
    } else {
      inputs.push({ url: await signedObjectUrl(env, s, 'GET', input.key, INPUT_URL_TTL_S), ...meta });
    }
  }
  const r = job.request;
  const formats = r.formats ?? 'mini_npz';
  // Presigned PUTs need every file name in advance: known from the view count for images; a
  // video's frame count is not, and Replicate keeps outputs itself — those are copied on completion.
  const known = s.outputMode === 'put' && backend.config.type !== 'replicate' && !job.inputs.some((i) => i.kind === 'video');
  let output: JobRequest['output'] = { type: 'keep' };
  if (known) {
    const names = expectedExportFiles(formats, job.inputs.length, { exportFeatLayers: r.options?.exportFeatLayers, featVisLayers: r.exportOptions?.featVisLayers });
    const urls: Record<string, string> = {};
    for (const name of names) urls[name] = await signedObjectUrl(env, s, 'PUT', resultPrefix(job.id, job.attempt) + name, OUTPUT_URL_TTL_S);
    output = { type: 'put', urls };
  }
  return {
    request: {
      inputs,
      ...(r.options ? { options: r.options } : {}),
      formats,
      ...(r.exportOptions ? { exportOptions: r.exportOptions } : {}),
      output,
      ...(s.workerCallbacks && env.WORKER_WEBHOOK_SECRET && backend.config.type !== 'replicate' ? { callbackUrl: `${s.publicUrl}/v1/internal/callback` } : {}),
      metadata: { edgeJob: job.id, attempt: String(job.attempt) },
    },
    output: output.type,
  };
}

/** Runs one dispatch message; returns how the queue should treat it. */
export async function dispatchOne(env: Env, message: DispatchMessage): Promise<'ack' | { retryAfterSeconds: number }> {
  const s = settings(env);
  const stub = env.JOBS.get(env.JOBS.idFromName(message.jobId));
  const job = await stub.claim(message.attempt);
  if (!job) return 'ack'; // a duplicate delivery, an old attempt, or a job that ended
  const backend = await chooseBackend(s.backends, message.attempt + job.createdAt, s.backendTimeoutMs);
  if (!backend) {
    await stub.release(message.attempt);
    return { retryAfterSeconds: 2 * s.retryBaseSeconds };
  }
  let prepared: Awaited<ReturnType<typeof backendRequest>>;
  try {
    prepared = await backendRequest(env, s, job, backend);
  } catch (error) {
    // Our side cannot build the request (an input vanished from the bucket): no retry helps.
    await stub.dispatchFailed(message.attempt, `the job could not be prepared: ${(error as Error).message}`);
    return 'ack';
  }
  const { request, output } = prepared;
  try {
    const remote = await backend.client.submit(request, { idempotencyKey: `${job.id}.${job.attempt}` });
    await stub.submitted(message.attempt, { index: backend.index, name: backend.name, jobId: remote.id, output, submittedAt: Date.now() });
    return 'ack';
  } catch (error) {
    await stub.release(message.attempt);
    // A request the backend refuses as invalid will not pass on a retry: the job fails now.
    if (isClientError(error, 'HTTP') && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) {
      await stub.dispatchFailed(message.attempt, `${backend.name} refused the job: ${error.message}`);
      return 'ack';
    }
    markUnhealthy(backend);
    return { retryAfterSeconds: s.retryBaseSeconds };
  }
}

/** The queue handler of the Worker (dispatch and dead-letter queues). */
export async function handleQueue(batch: MessageBatch<DispatchMessage>, env: Env): Promise<void> {
  if (batch.queue.endsWith('-dlq')) {
    for (const m of batch.messages) {
      const stub = env.JOBS.get(env.JOBS.idFromName(m.body.jobId));
      await stub.dispatchFailed(m.body.attempt, `no GPU backend took attempt ${m.body.attempt} after the queue's retries`);
      m.ack();
    }
    return;
  }
  await Promise.all(
    batch.messages.map(async (m) => {
      try {
        const outcome = await dispatchOne(env, m.body);
        if (outcome === 'ack') m.ack();
        else m.retry({ delaySeconds: Math.min(300, Math.ceil(outcome.retryAfterSeconds * 2 ** Math.max(0, m.attempts - 1))) });
      } catch {
        m.retry({ delaySeconds: Math.min(300, Math.ceil(settings(env).retryBaseSeconds * 2 ** Math.max(0, m.attempts - 1))) });
      }
    }),
  );
}
