/**
 * `@da3js/client` against a real da3js inference service (apps/gpu-worker's service, tiny model,
 * loopback), and against local servers that follow Modal's and Replicate's documented HTTP
 * contracts (see ./backends.ts for which documents each follows).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DepthAnything3, type InferenceService, type ServingService, createInferenceService, serveInferenceService } from '@da3js/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadTensors } from '../../../test-utils/fixtures.js';
import { type Job, da3Worker, isClientError, modal, replicate } from '../src/index.js';
import { startFlakyProxy, startModalProxy, startReplicate } from './backends.js';

const TOKEN = 'client-token-0123456789abcdef';
const work = mkdtempSync(join(tmpdir(), 'da3js-client-'));
let model: DepthAnything3;
let service: InferenceService;
let serving: ServingService;
let pngs: Buffer[];
let localNpz: Buffer;

const inline = () => ({ inputs: pngs.map((b, i) => ({ data: b.toString('base64'), name: `${i}.png` })), options: { processRes: 84 } });

beforeAll(async () => {
  model = await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny'), { cacheDir: join(work, 'cache') });
  service = await createInferenceService(model, { token: TOKEN, stateDir: join(work, 'state'), maxQueue: 64 });
  serving = await serveInferenceService(service, { port: 0 });
  const inputs = await loadTensors('tiny/multi/inputs.safetensors');
  const [S, H, W] = inputs.image_u8.shape;
  pngs = await Promise.all(
    Array.from({ length: S }, (_, s) => sharp(Buffer.from((inputs.image_u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()),
  );
  const pred = await model.inference(pngs.map((b) => new Uint8Array(b)), { processRes: 84 });
  const [file] = await pred.export({ dir: join(work, 'local'), formats: 'mini_npz' });
  localNpz = readFileSync(file);
});

afterAll(async () => {
  await serving?.close();
  await model?.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('da3Worker (apps/gpu-worker)', () => {
  it('run(): submit, wait with progress, download verified files equal to a local export', async () => {
    const client = da3Worker({ url: serving.url, token: TOKEN });
    const seen: string[] = [];
    const { job, files } = await client.run({ ...inline(), formats: 'mini_npz' }, { pollIntervalMs: 20, onProgress: (j) => seen.push(j.state) });
    expect(job.state).toBe('succeeded');
    expect(seen.at(-1)).toBe('succeeded');
    expect(files.map((f) => f.name)).toEqual(['exports/mini_npz/results.npz']);
    expect(Buffer.from(files[0].bytes).equals(localNpz)).toBe(true);
  });

  it('health() reports readiness and queue depth, and never throws', async () => {
    expect(await da3Worker({ url: serving.url, token: TOKEN }).health()).toEqual({ ready: true, queueDepth: 0 });
    const down = await da3Worker({ url: 'http://127.0.0.1:1', token: TOKEN }).health();
    expect(down.ready).toBe(false);
    expect(down.reason).toMatch(/fetch failed|ECONNREFUSED/);
  });

  it('a submit whose answer is lost is retried with the same idempotency key: one job, one run', async () => {
    const proxy = await startFlakyProxy(serving.url);
    try {
      proxy.cut('POST', '/v1/jobs', 2);
      const client = da3Worker({ url: proxy.url, token: TOKEN, retryDelayMs: 10 });
      const job = await client.submit(inline(), { idempotencyKey: 'flaky-1' });
      expect(proxy.forwarded.filter((f) => f.method === 'POST')).toHaveLength(3);
      const done = await client.wait(job.id, { pollIntervalMs: 20 });
      expect(done.state).toBe('succeeded');
      expect(service.metricsText()).toMatch(/da3_jobs\{state="succeeded"\} \d+/);
      // The service made exactly one job for the key.
      const again = await da3Worker({ url: serving.url, token: TOKEN }).submit(inline(), { idempotencyKey: 'flaky-1' });
      expect(again.id).toBe(job.id);
    } finally {
      await proxy.close();
    }
  });

  it('typed errors name the backend and status: wrong token, bad request, unknown job; downloads are integrity-checked', async () => {
    const bad = da3Worker({ url: serving.url, token: 'wrong-token-wrong-token' });
    const e1 = await bad.status('job_x').catch((e) => e);
    expect(isClientError(e1, 'HTTP')).toBe(true);
    expect(e1).toMatchObject({ code: 'UNAUTHORIZED', status: 401, backend: 'da3-worker', body: { error: { code: 'UNAUTHORIZED' } } });
    const client = da3Worker({ url: serving.url, token: TOKEN });
    const e2 = await client.submit({ inputs: [{ url: 'ftp://nope' }] } as never).catch((e) => e);
    expect(e2).toMatchObject({ code: 'BAD_VALUE', status: 400 });
    expect(e2.message).toMatch(/da3-worker: .*HTTP 400 — BAD_REQUEST: the job request is invalid/);
    const e3 = await client.status(`job_${'0'.repeat(32)}`).catch((e) => e);
    expect(e3).toMatchObject({ status: 404 });
    // A manifest that lies about a file: INTEGRITY.
    const job = await client.wait((await client.submit(inline())).id, { pollIntervalMs: 20 });
    const forged: Job = { ...job, result: { ...job.result!, files: job.result!.files.map((f) => ({ ...f, sha256: '0'.repeat(64) })) } };
    const e4 = await client.result(forged).catch((e) => e);
    expect(isClientError(e4, 'INTEGRITY')).toBe(true);
  });

  it('timeouts and aborts: an unreachable port retries then fails NETWORK; a wait past its deadline is TIMEOUT; an aborted wait is ABORTED', async () => {
    const down = da3Worker({ url: 'http://127.0.0.1:1', token: TOKEN, retries: 1, retryDelayMs: 1 });
    const e1 = await down.status('job_x').catch((e) => e);
    expect(isClientError(e1, 'NETWORK')).toBe(true);
    const client = da3Worker({ url: serving.url, token: TOKEN });
    const job = await client.submit({ inputs: [{ url: 'http://127.0.0.1:1/never.png' }] });
    const ended = await client.wait(job.id, { pollIntervalMs: 20 });
    expect(ended).toMatchObject({ state: 'failed', error: { code: 'IO' } });
    const slow = await client.submit(inline());
    const e2 = await client.wait(slow.id, { pollIntervalMs: 5, deadlineMs: 1 }).catch((e) => e);
    expect(isClientError(e2, 'TIMEOUT')).toBe(true);
    const controller = new AbortController();
    const waiting = client.wait(slow.id, { pollIntervalMs: 50, signal: controller.signal });
    controller.abort();
    expect(isClientError(await waiting.catch((e) => e), 'ABORTED')).toBe(true);
    await client.cancel(slow.id);
    await service.idle();
  });
});

describe('modal (a Modal web endpoint running the gpu-worker container)', () => {
  it('sends the proxy-auth headers, follows the 303 that Modal sends for requests past the time limit, and runs a job', async () => {
    const proxy = await startModalProxy(serving.url, 150);
    try {
      const anonymous = await fetch(`${proxy.url}/healthz`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).toBe('modal-http: missing credentials for proxy authorization');
      const client = modal({ url: proxy.url, tokenId: proxy.tokenId, tokenSecret: proxy.tokenSecret, token: TOKEN });
      proxy.delayMs = 400; // a cold start: the submit outlives the endpoint's limit
      const submitted = await client.submit({ ...inline(), formats: 'mini_npz' });
      expect(proxy.redirects).toBeGreaterThanOrEqual(1);
      proxy.delayMs = 0;
      const job = await client.wait(submitted.id, { pollIntervalMs: 20 });
      expect(job.state).toBe('succeeded');
      const [file] = await client.result(job);
      expect(Buffer.from(file.bytes).equals(localNpz)).toBe(true);
      const wrong = modal({ url: proxy.url, tokenId: proxy.tokenId, tokenSecret: 'ws-nope', token: TOKEN });
      expect(await wrong.status(job.id).catch((e) => e)).toMatchObject({ code: 'UNAUTHORIZED', status: 401, backend: 'modal' });
    } finally {
      await proxy.close();
    }
  });
});

describe('replicate (predictions API)', () => {
  it('creates a prediction, polls it, copies the expiring outputs at once, and verifies them', async () => {
    const rep = await startReplicate(serving.url, TOKEN);
    try {
      const client = replicate({ token: rep.token, version: rep.version, baseUrl: rep.url, retryDelayMs: 10 });
      rep.outputTtlMs = 1500;
      const { job, files } = await client.run({ ...inline(), formats: 'mini_npz' }, { pollIntervalMs: 20 });
      expect(job.state).toBe('succeeded');
      expect(Buffer.from(files[0].bytes).equals(localNpz)).toBe(true);
      // Later the delivery URL has expired: that is why result() copies right away.
      await new Promise((ok) => setTimeout(ok, 1600));
      expect(await client.result(job).catch((e) => e)).toMatchObject({ status: 404, backend: 'replicate' });
      // Sync mode (Prefer: wait) returns the finished prediction from the create call.
      const sync = replicate({ token: rep.token, version: rep.version, baseUrl: rep.url, preferWaitSeconds: 30 });
      rep.outputTtlMs = 60_000;
      expect((await sync.submit(inline())).state).toBe('succeeded');
      // Errors: a wrong token (401), an unknown version (422), cancel.
      expect(await replicate({ token: 'r8_wrong', version: rep.version, baseUrl: rep.url }).status('x').catch((e) => e)).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
      expect(await replicate({ token: rep.token, version: 'nope', baseUrl: rep.url }).submit(inline()).catch((e) => e)).toMatchObject({ code: 'BAD_VALUE', status: 422 });
      const p = await client.submit({ inputs: [{ url: 'http://127.0.0.1:1/slow.png' }] });
      const canceled = await client.cancel(p.id);
      expect(['canceled', 'failed']).toContain(canceled.state);
      await expect(client.submit({ ...inline(), output: { type: 'put', urls: {} } })).rejects.toMatchObject({ code: 'BAD_VALUE' });
    } finally {
      await rep.close();
      await service.idle();
    }
  });
});

describe('@da3js/client is runtime-free', () => {
  it('imports no Node built-in (fetch, AbortSignal, crypto only)', () => {
    const dir = join(REPO_ROOT, 'packages/client/src');
    const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
    expect(files.length).toBeGreaterThan(4);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/from ['"](node:|fs|path|os|http|https|crypto|stream|buffer|url)['"/]/);
      expect(text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''), f).not.toMatch(/\b(process\.|Buffer\.|__dirname|require\()/);
    }
  });
});
