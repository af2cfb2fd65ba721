/**
 * The inference service under faults (loopback only, bounded): the worker killed with SIGKILL
 * mid-job and restarted, SIGTERM during a job (within and past the grace period), a PUT target
 * failing then recovering, a callback receiver that is down for a while. Every job ends in a
 * documented terminal state; none runs twice; no output file is partial.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, generateWebhookSecret, verifyWebhook } from '@da3js/core/protocol';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';
import { DepthAnything3 } from '../src/model/depth-anything-3.js';
import { createInferenceService, serveInferenceService } from '../src/service/index.js';
import { type CallbackReceiver, type ObjectStore, startCallbackReceiver, startObjectStore } from './helpers/object-store.js';

const TOKEN = 'fault-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };
const work = mkdtempSync(join(tmpdir(), 'da3js-faults-'));
const CHILD = join(__dirname, 'helpers', 'service-child.mjs');
let store: ObjectStore;
let receiver: CallbackReceiver;
let png: Buffer;
const children = new Set<ChildProcess>();

/** Starts the service in a child process over `stateDir`; resolves with its URL. */
async function startChild(stateDir: string, graceMs = 10_000): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const cfg = { model: join(FIXTURES, 'tiny'), cacheDir: join(work, 'cache'), graceMs, service: { token: TOKEN, stateDir, networkTimeoutMs: 10_000 } };
  const child = spawn(process.execPath, [CHILD, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const url = await new Promise<string>((ok, fail) => {
    child.stdout!.once('data', (d) => ok(JSON.parse(String(d)).url));
    child.once('exit', (code) => fail(new Error(`service child exited with ${code}`)));
  });
  return { child, url, exited };
}

async function submit(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; job: Job }> {
  const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) });
  return { status: res.status, job: (await res.json()) as Job };
}

const getJob = async (url: string, id: string) => (await (await fetch(`${url}/v1/jobs/${id}`, { headers: auth })).json()) as Job;

async function waitFor(url: string, id: string, until: (j: Job) => boolean = (j) => ['succeeded', 'failed', 'canceled'].includes(j.state)): Promise<Job> {
  for (let i = 0; i < 1200; i++) {
    const job = await getJob(url, id);
    if (until(job)) return job;
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error(`job ${id} never reached the state`);
}

beforeAll(async () => {
  const inputs = await loadTensors('tiny/multi/inputs.safetensors');
  const [, H, W] = inputs.image_u8.shape;
  png = await sharp(Buffer.from((inputs.image_u8.data as Uint8Array).subarray(0, H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
  store = await startObjectStore();
  receiver = await startCallbackReceiver();
  store.objects.set('slow.png', png);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await store?.close();
  await receiver?.close();
  rmSync(work, { recursive: true, force: true });
});

const inline = (key: string) => ({ inputs: [{ data: png.toString('base64') }], options: { processRes: 84 }, idempotencyKey: key });

describe('inference service faults (child processes)', () => {
  it('SIGKILL mid-job, then restart: the running job ends failed/INTERRUPTED (not run again), queued jobs run once, keys survive', async () => {
    const stateDir = mkdtempSync(join(work, 'state-'));
    store.delayGet('slow.png', 4000);
    const a = await startChild(stateDir);
    const running = await submit(a.url, { inputs: [{ url: store.presign('GET', 'slow.png') }], options: { processRes: 84 }, idempotencyKey: 'k-running' });
    const q1 = await submit(a.url, inline('k-q1'));
    const q2 = await submit(a.url, inline('k-q2'));
    await waitFor(a.url, running.job.id, (j) => j.state === 'running');
    a.child.kill('SIGKILL');
    await a.exited;
    store.delayGet('slow.png', 0);

    const b = await startChild(stateDir);
    try {
      const interrupted = await getJob(b.url, running.job.id);
      expect(interrupted).toMatchObject({ state: 'failed', error: { code: 'INTERRUPTED', retryable: true } });
      for (const q of [q1, q2]) expect((await waitFor(b.url, q.job.id)).state).toBe('succeeded');
      // Never run twice: the slow input was fetched once (by the killed run), and stays failed.
      expect(store.log.filter((l) => l.key === 'slow.png' && l.method === 'GET')).toHaveLength(1);
      expect((await getJob(b.url, running.job.id)).state).toBe('failed');
      // The idempotency keys survived the restart: a resubmit is a replay, not a new job.
      const replay = await submit(b.url, inline('k-q1'));
      expect(replay).toMatchObject({ status: 200, job: { id: q1.job.id, state: 'succeeded' } });
    } finally {
      b.child.kill('SIGTERM');
      expect(await b.exited).toBe(0);
    }
  }, 60_000);

  it('SIGTERM during a job: new jobs get 503, the running job finishes, the queued one waits for the next start; the process exits 0', async () => {
    const stateDir = mkdtempSync(join(work, 'state-'));
    store.delayGet('slow.png', 1500);
    const a = await startChild(stateDir);
    const running = await submit(a.url, { inputs: [{ url: store.presign('GET', 'slow.png') }], options: { processRes: 84 }, formats: 'mini_npz' });
    const queued = await submit(a.url, inline('k-after'));
    await waitFor(a.url, running.job.id, (j) => j.state === 'running');
    a.child.kill('SIGTERM');
    await new Promise((ok) => setTimeout(ok, 200));
    const refused = await fetch(`${a.url}/v1/jobs`, { method: 'POST', headers: json, body: JSON.stringify(inline('k-late')) });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await a.exited).toBe(0);
    store.delayGet('slow.png', 0);

    const b = await startChild(stateDir);
    try {
      const done = await getJob(b.url, running.job.id);
      expect(done.state).toBe('succeeded');
      const file = await fetch(`${b.url}${done.result!.files[0].url}`, { headers: auth });
      expect(file.status).toBe(200);
      expect(Number(file.headers.get('content-length'))).toBe(done.result!.files[0].size);
      expect((await waitFor(b.url, queued.job.id)).state).toBe('succeeded');
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  }, 60_000);

  it('SIGTERM past the grace period: the running job ends failed/SHUTDOWN (retryable)', async () => {
    const stateDir = mkdtempSync(join(work, 'state-'));
    store.delayGet('slow.png', 3000);
    const a = await startChild(stateDir, 300);
    const running = await submit(a.url, { inputs: [{ url: store.presign('GET', 'slow.png') }], options: { processRes: 84 } });
    await waitFor(a.url, running.job.id, (j) => j.state === 'running');
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    store.delayGet('slow.png', 0);
    const b = await startChild(stateDir);
    try {
      expect(await getJob(b.url, running.job.id)).toMatchObject({ state: 'failed', error: { code: 'SHUTDOWN', retryable: true } });
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  }, 60_000);
});

describe('inference service faults (in process)', () => {
  it('a PUT target failing twice then recovering gets every file; one that keeps failing fails the job (IO, retryable) with nothing partial', async () => {
    const model = await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny'), { cacheDir: join(work, 'cache') });
    const secret = generateWebhookSecret();
    const service = await createInferenceService(model, { token: TOKEN, stateDir: mkdtempSync(join(work, 'state-')), uploadAttempts: 3, callbackAttempts: 4, retryDelayMs: 20, webhookSecret: secret });
    const serving = await serveInferenceService(service, { port: 0 });
    try {
      store.failPut('put/ok/exports/mini_npz/results.npz', 2);
      const ok = await submit(serving.url, {
        ...inline('put-ok'),
        output: { type: 'put', urls: { 'exports/mini_npz/results.npz': store.presign('PUT', 'put/ok/exports/mini_npz/results.npz') } },
      });
      expect((await waitFor(serving.url, ok.job.id)).state).toBe('succeeded');
      expect(store.log.filter((l) => l.key === 'put/ok/exports/mini_npz/results.npz').map((l) => l.status)).toEqual([500, 500, 200]);
      expect(store.objects.get('put/ok/exports/mini_npz/results.npz')!.subarray(0, 2).toString()).toBe('PK');

      store.failPut('put/bad/exports/mini_npz/results.npz', 10, 503);
      const bad = await submit(serving.url, {
        ...inline('put-bad'),
        output: { type: 'put', urls: { 'exports/mini_npz/results.npz': store.presign('PUT', 'put/bad/exports/mini_npz/results.npz') } },
      });
      const failed = await waitFor(serving.url, bad.job.id);
      expect(failed).toMatchObject({ state: 'failed', error: { code: 'IO', retryable: true } });
      expect(failed.error!.message).toMatch(/upload to .*put\/bad.* failed after retries: HTTP 503/);
      expect(store.objects.has('put/bad/exports/mini_npz/results.npz')).toBe(false);

      // A callback receiver down for two deliveries gets the third; one down for good is recorded as failed.
      receiver.refuse(2);
      const cb = await submit(serving.url, { ...inline('cb-1'), callbackUrl: receiver.url });
      await waitFor(serving.url, cb.job.id, (j) => j.callback?.state === 'delivered');
      const deliveries = receiver.received.filter((r) => r.headers['webhook-id'] === `${cb.job.id}.succeeded`);
      expect(deliveries.map((d) => d.status)).toEqual([503, 503, 200]);
      for (const d of deliveries) expect(verifyWebhook(secret, d.headers, d.body)).toMatchObject({ type: 'job.succeeded' });
      expect((await getJob(serving.url, cb.job.id)).callback).toEqual({ state: 'delivered', attempts: 3 });
      receiver.refuse(100);
      const down = await submit(serving.url, { ...inline('cb-2'), callbackUrl: receiver.url });
      const ended = await waitFor(serving.url, down.job.id, (j) => j.callback?.state === 'failed');
      expect(ended.state).toBe('succeeded');
      expect(ended.callback).toMatchObject({ state: 'failed', attempts: 4, error: expect.stringMatching(/HTTP 503/) });
      receiver.refuse(0);
    } finally {
      await serving.close();
      await model.dispose();
    }
  }, 60_000);
});
