/**
 * The inference service (`da3 backend`, apps/gpu-worker) on loopback with the tiny fixture model:
 * jobs by presigned URL, inline and multipart, results equal to a local `model.inference` + export
 * (byte-identical files at the PUT target), signed callbacks, idempotency, cancel, and every way a
 * stranger can knock: no/wrong token, cross-site content types and origins, DNS rebinding, bad and
 * oversized bodies, slow uploads against the queue limit — typed 4xx, never a 500.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWebhook, generateWebhookSecret, type Job } from '@da3js/core/protocol';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';
import { DepthAnything3 } from '../src/model/depth-anything-3.js';
import { type InferenceService, type ServingService, createInferenceService, serveInferenceService } from '../src/service/index.js';
import { type CallbackReceiver, type ObjectStore, startCallbackReceiver, startObjectStore } from './helpers/object-store.js';

const TOKEN = 'test-token-0123456789abcdef';
const work = mkdtempSync(join(tmpdir(), 'da3js-service-'));
let model: DepthAnything3;
let pngs: Buffer[];
let store: ObjectStore;
let receiver: CallbackReceiver;
const secret = generateWebhookSecret();

async function startService(extra: Partial<Parameters<typeof createInferenceService>[1]> = {}): Promise<{ service: InferenceService; serving: ServingService; url: string }> {
  const service = await createInferenceService(model, { token: TOKEN, stateDir: mkdtempSync(join(work, 'state-')), webhookSecret: secret, retryDelayMs: 20, networkTimeoutMs: 2000, ...extra });
  const serving = await serveInferenceService(service, { port: 0 });
  return { service, serving, url: serving.url };
}

const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };

async function submit(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Job & { error?: { code: string; message: string; issues?: unknown[] } } };
}

async function waitFor(url: string, id: string): Promise<Job> {
  for (let i = 0; i < 600; i++) {
    const job = (await (await fetch(`${url}/v1/jobs/${id}`, { headers: auth })).json()) as Job;
    if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'canceled') return job;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`job ${id} did not end`);
}

/** The files a local `model.inference` + `export` writes for the same input: relative path → bytes. */
async function localExport(formats: string): Promise<Map<string, Buffer>> {
  const dir = mkdtempSync(join(work, 'local-'));
  const pred = await model.inference(pngs.map((b) => new Uint8Array(b)), { processRes: 84 });
  const written = await pred.export({ dir, formats, imageNames: ['0.png', '1.png', '2.png'], originalSizes: [[84, 56], [84, 56], [84, 56]] });
  return new Map(written.map((p) => [p.slice(dir.length + 1), readFileSync(p)]));
}

beforeAll(async () => {
  model = await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny'), { cacheDir: join(work, 'cache') });
  const inputs = await loadTensors('tiny/multi/inputs.safetensors');
  const [S, H, W] = inputs.image_u8.shape;
  pngs = await Promise.all(
    Array.from({ length: S }, (_, s) => sharp(Buffer.from((inputs.image_u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()),
  );
  store = await startObjectStore();
  receiver = await startCallbackReceiver();
  for (const [i, b] of pngs.entries()) store.objects.set(`in/${i}.png`, b);
});

afterAll(async () => {
  await store?.close();
  await receiver?.close();
  await model?.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('inference service: jobs', () => {
  it('by presigned GET URLs → files at presigned PUT URLs, byte-identical to a local export; manifest, progress, timings; signed callback', async () => {
    const { serving, url } = await startService();
    try {
      const formats = 'mini_npz-glb-colmap';
      const local = await localExport(formats);
      const urls = Object.fromEntries([...local.keys()].map((name) => [name, store.presign('PUT', `out/job1/${name}`)]));
      const r = await submit(url, {
        inputs: pngs.map((_, i) => ({ url: store.presign('GET', `in/${i}.png`), name: `${i}.png` })),
        options: { processRes: 84 },
        formats,
        output: { type: 'put', urls },
        callbackUrl: receiver.url,
        metadata: { user: 'u1' },
      });
      expect(r.status).toBe(202);
      expect(r.headers.get('location')).toBe(`/v1/jobs/${r.body.id}`);
      const job = await waitFor(url, r.body.id);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      expect(job.result).toMatchObject({ views: 3, width: 84, height: 56, isMetric: false });
      expect(job.metadata).toEqual({ user: 'u1' });
      expect(job.progress).toEqual({ stage: 'done', fraction: 1 });
      expect(Object.keys(job.timings)).toEqual(expect.arrayContaining(['fetch', 'decode', 'preprocess', 'network', 'export', 'upload']));
      // Every file arrived, byte for byte what a local export writes; the manifest describes it.
      expect(job.result!.files.map((f) => f.name).sort()).toEqual([...local.keys()].sort());
      for (const f of job.result!.files) {
        const got = store.objects.get(`out/job1/${f.name}`)!;
        expect(got.equals(local.get(f.name)!), f.name).toBe(true);
        expect(f.size).toBe(got.length);
        expect(f.sha256).toBe(createHash('sha256').update(got).digest('hex'));
        expect(f.url).toBe(`${store.origin}/out/job1/${f.name}`); // no signature in the manifest
      }
      // The callback: one delivery, signed (Standard Webhooks), the job inside.
      for (let i = 0; i < 100 && receiver.received.length === 0; i++) await new Promise((ok) => setTimeout(ok, 20));
      const hook = receiver.received.at(-1)!;
      const event = verifyWebhook(secret, hook.headers, hook.body) as { type: string; data: Job };
      expect(event.type).toBe('job.succeeded');
      expect(event.data.id).toBe(job.id);
      expect(hook.headers['webhook-id']).toBe(`${job.id}.succeeded`);
    } finally {
      await serving.close();
    }
  });

  it('inline base64 and multipart uploads; kept files download over HTTP and equal a local export', async () => {
    const { serving, url } = await startService();
    try {
      const local = await localExport('mini_npz');
      const inline = await submit(url, { inputs: pngs.map((b, i) => ({ data: b.toString('base64'), name: `${i}.png` })), options: { processRes: 84 } });
      expect(inline.status).toBe(202);
      const form = new FormData();
      form.set('job', JSON.stringify({ options: { processRes: 84 }, formats: 'mini_npz' }));
      for (const [i, b] of pngs.entries()) form.append('images', new Blob([b], { type: 'image/png' }), `${i}.png`);
      const multi = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: auth, body: form });
      expect(multi.status).toBe(202);
      for (const id of [inline.body.id, ((await multi.json()) as Job).id]) {
        const job = await waitFor(url, id);
        expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
        const [file] = job.result!.files;
        expect(file.name).toBe('exports/mini_npz/results.npz');
        const res = await fetch(`${url}${file.url}`, { headers: auth });
        expect(res.headers.get('content-type')).toBe('application/zip');
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(bytes.equals(local.get(file.name)!)).toBe(true);
        expect((await fetch(`${url}${file.url}`)).status).toBe(401); // files need the token too
        expect((await fetch(`${url}/v1/jobs/${id}/files/..%2F..%2Fjob.json`, { headers: auth })).status).toBe(404);
      }
    } finally {
      await serving.close();
    }
  });

  it('idempotency: the same key returns the same job (no second run), another body with it is 409, concurrent duplicates make one job', async () => {
    const { service, serving, url } = await startService();
    try {
      const body = { inputs: [{ data: pngs[0].toString('base64') }], options: { processRes: 84 } };
      const burst = await Promise.all(Array.from({ length: 8 }, () => submit(url, body, { 'idempotency-key': 'same-1' })));
      const ids = new Set(burst.map((r) => r.body.id));
      expect(ids.size).toBe(1);
      expect(burst.filter((r) => r.status === 202)).toHaveLength(1);
      expect(burst.filter((r) => r.status === 200 && r.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);
      await service.idle();
      const again = await submit(url, { ...body, idempotencyKey: 'same-1' });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id: [...ids][0], state: 'succeeded' });
      const other = await submit(url, { ...body, options: { processRes: 112 } }, { 'idempotency-key': 'same-1' });
      expect(other.status).toBe(409);
      expect(other.body.error!.code).toBe('IDEMPOTENCY_KEY_REUSED');
      const metrics = await (await fetch(`${url}/metrics`, { headers: auth })).text();
      expect(metrics).toMatch(/da3_jobs_finished_total\{state="succeeded"\} 1\n/);
    } finally {
      await serving.close();
    }
  });

  it('cancel: a queued job ends canceled at once, a running one at its next stage; unknown ids are 404', async () => {
    const { service, serving, url } = await startService();
    try {
      store.objects.set('slow.png', pngs[0]);
      store.delayGet('slow.png', 1500);
      const running = await submit(url, { inputs: [{ url: store.presign('GET', 'slow.png') }], options: { processRes: 84 } });
      const queued = await submit(url, { inputs: [{ data: pngs[1].toString('base64') }], options: { processRes: 84 } });
      const c1 = await fetch(`${url}/v1/jobs/${queued.body.id}`, { method: 'DELETE', headers: auth });
      expect(c1.status).toBe(202);
      expect(((await c1.json()) as Job).state).toBe('canceled');
      const c2 = await fetch(`${url}/v1/jobs/${running.body.id}`, { method: 'DELETE', headers: auth });
      expect(((await c2.json()) as Job).cancelRequested).toBe(true);
      const ended = await waitFor(url, running.body.id);
      expect(ended.state).toBe('canceled');
      expect(ended.result).toBeUndefined();
      await service.idle();
      expect((await fetch(`${url}/v1/jobs/job_${'0'.repeat(32)}`, { method: 'DELETE', headers: auth })).status).toBe(404);
      expect((await fetch(`${url}/v1/jobs/../../etc/passwd`, { headers: auth })).status).toBe(404);
    } finally {
      store.delayGet('slow.png', 0);
      await serving.close();
    }
  });

  it('a failing job ends failed with a typed, retryable-or-not error: 404 input, oversize input, stalled input, corrupt image, PUT target without a URL', async () => {
    const { service, serving, url } = await startService({ maxInputBytes: 100_000, networkTimeoutMs: 300 });
    try {
      store.objects.set('big.bin', Buffer.alloc(200_000));
      store.objects.set('hang.png', pngs[0]);
      store.delayGet('hang.png', Number.POSITIVE_INFINITY);
      const cases: [unknown, string, RegExp][] = [
        [{ inputs: [{ url: store.presign('GET', 'missing.png') }] }, 'IO', /HTTP 404/],
        [{ inputs: [{ url: store.presign('GET', 'big.bin') }] }, 'OUT_OF_RANGE', /maxBytes = 100000/],
        [{ inputs: [{ url: store.presign('GET', 'hang.png') }] }, 'IO', /timed out: no response/],
        [{ inputs: [{ data: Buffer.from('not an image at all').toString('base64'), name: 'x.png' }] }, 'UNKNOWN_FORMAT', /x\.png/],
        [{ inputs: [{ data: pngs[0].toString('base64') }], options: { processRes: 84 }, formats: 'mini_npz-depth_vis', output: { type: 'put', urls: { 'exports/mini_npz/results.npz': store.presign('PUT', 'o/r.npz') } } }, 'BAD_VALUE', /no PUT URL for 1 produced file\(s\): depth_vis\/0000\.jpg/],
      ];
      for (const [body, code, message] of cases) {
        const r = await submit(url, body);
        expect(r.status).toBe(202);
        const job = await waitFor(url, r.body.id);
        expect(job.state).toBe('failed');
        expect(job.error!.code, job.error!.message).toBe(code);
        expect(job.error!.message).toMatch(message);
        expect(job.error!.retryable).toBe(code === 'IO');
      }
      expect(store.objects.has('o/r.npz')).toBe(false); // nothing uploaded when one URL is missing
      await service.idle();
    } finally {
      await serving.close();
    }
  });
});

describe('inference service: strangers get typed 4xx, never a 500', () => {
  let serving: ServingService;
  let url: string;
  beforeAll(async () => {
    ({ serving, url } = await startService({ maxBodyBytes: 256 * 1024, allowedHosts: ['127.0.0.1'], allowedOrigins: ['https://app.example'] }));
  });
  afterAll(() => serving.close());

  /** A raw request (node:http: any Host, any method, any body). */
  function raw(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<{ status: number; text: string }> {
    const u = new URL(url);
    return new Promise((ok, fail) => {
      const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  it('the token is required and compared exactly; health checks are open', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ ready: true });
    for (const a of [undefined, 'Bearer', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, `bearer ${TOKEN}`]) {
      const r = await fetch(`${url}/v1/jobs/job_${'0'.repeat(32)}`, { headers: a ? { authorization: a } : {} });
      expect(r.status, String(a)).toBe(401);
      expect(await r.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    }
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
  });

  it('cross-site requests: text/plain and form bodies are 415 (no CSRF), foreign Origins 403, a rebinding Host 403', async () => {
    const valid = JSON.stringify({ inputs: [{ data: pngs[0].toString('base64') }] });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', '']) {
      const r = await raw('POST', '/v1/jobs', { ...auth, 'content-type': type, host: new URL(url).host }, valid);
      expect(r.status, type).toBe(415);
    }
    const evil = await raw('POST', '/v1/jobs', { ...json, origin: 'https://evil.example', host: new URL(url).host }, valid);
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.text).error.code).toBe('ORIGIN_NOT_ALLOWED');
    const preflight = await fetch(`${url}/v1/jobs`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const rebind = await raw('GET', '/v1/jobs/x', { ...auth, host: 'attacker.example:8008' });
    expect(rebind.status).toBe(403);
    expect(JSON.parse(rebind.text).error.code).toBe('HOST_NOT_ALLOWED');
  });

  it('bad bodies: malformed JSON, null, arrays, wrong types, unknown fields, unbounded numbers, disallowed hosts, oversize → 400/413 with a typed body', async () => {
    const host = { host: new URL(url).host };
    const cases: [string, number, string][] = [
      ['{"inputs": [', 400, 'BAD_JSON'],
      ['null', 400, 'BAD_REQUEST'],
      ['[]', 400, 'BAD_REQUEST'],
      ['{"inputs": "a.png"}', 400, 'BAD_REQUEST'],
      ['{"inputs": [{"url": "https://127.0.0.1/a.png"}], "admin": true}', 400, 'BAD_REQUEST'],
      ['{"inputs": [{"url": "https://127.0.0.1/a.png"}], "options": {"processRes": 100000}}', 400, 'BAD_REQUEST'],
      ['{"inputs": [{"url": "http://169.254.169.254/latest/meta-data"}]}', 400, 'URL_NOT_ALLOWED'],
      ['{"inputs": [{"url": "http://127.0.0.1/a.png"}], "callbackUrl": "http://10.0.0.1/hook"}', 400, 'URL_NOT_ALLOWED'],
      [JSON.stringify({ inputs: [{ data: 'A'.repeat(300 * 1024) }] }), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) {
      const r = await raw('POST', '/v1/jobs', { ...json, ...host }, body);
      expect(r.status, body.slice(0, 80)).toBe(status);
      const parsed = JSON.parse(r.text);
      expect(parsed.error.code, body.slice(0, 80)).toBe(code);
      expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
    }
    // A body over the limit without Content-Length (chunked) is cut off too.
    const chunked = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: json,
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode('x'.repeat(8192)));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    // Unknown routes and methods.
    expect((await fetch(`${url}/v1/nope`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/v1/jobs`, { method: 'PUT', headers: auth })).status).toBe(404);
  });

  it('the queue limit counts jobs after their bodies arrived: 10 slow uploads against a limit of 3 → 3 accepted, 7 × 429 with Retry-After', async () => {
    const { service, serving: s2, url: u2 } = await startService({ maxQueue: 3 });
    try {
      store.objects.set('slow2.png', pngs[0]);
      store.delayGet('slow2.png', 800);
      const body = JSON.stringify({ inputs: [{ url: store.presign('GET', 'slow2.png') }], options: { processRes: 84 } });
      const slowUpload = () =>
        fetch(`${u2}/v1/jobs`, {
          method: 'POST',
          headers: json,
          body: new ReadableStream({
            async start(c) {
              const bytes = new TextEncoder().encode(body);
              for (let at = 0; at < bytes.length; at += 64) {
                c.enqueue(bytes.subarray(at, at + 64));
                await new Promise((ok) => setTimeout(ok, 5));
              }
              c.close();
            },
          }),
          duplex: 'half',
        } as RequestInit);
      const answers = await Promise.all(Array.from({ length: 10 }, slowUpload));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses.filter((s) => s === 202)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(7);
      const busy = answers.find((a) => a.status === 429)!;
      expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await busy.json()) as unknown).toMatchObject({ error: { code: 'QUEUE_FULL' } });
      store.delayGet('slow2.png', 0);
      await service.idle();
    } finally {
      await s2.close();
    }
  });
});

describe('inference service: serving while the model loads', () => {
  it('the port opens at once: /healthz says loading, /readyz and the API answer 503 + Retry-After until the service is ready', async () => {
    let resolve!: (s: InferenceService) => void;
    const loading = new Promise<InferenceService>((ok) => {
      resolve = ok;
    });
    const serving = await serveInferenceService(loading, { port: 0 });
    try {
      expect(await (await fetch(`${serving.url}/healthz`)).json()).toMatchObject({ ok: true, loading: true });
      const notYet = await fetch(`${serving.url}/readyz`);
      expect(notYet.status).toBe(503);
      expect(notYet.headers.get('retry-after')).toBe('5');
      expect((await fetch(`${serving.url}/v1/jobs`, { method: 'POST', headers: json, body: '{}' })).status).toBe(503);
      resolve(await createInferenceService(model, { token: TOKEN, stateDir: mkdtempSync(join(work, 'state-')) }));
      await serving.ready;
      expect((await fetch(`${serving.url}/readyz`)).status).toBe(200);
    } finally {
      await serving.close();
    }
    const failing = await serveInferenceService(Promise.reject(new Error('no such model: nope/nope')), { port: 0 });
    try {
      await expect(failing.ready).rejects.toThrow(/no such model/);
      const r = await fetch(`${failing.url}/readyz`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ error: { code: 'FAILED_TO_LOAD', message: 'no such model: nope/nope' } });
    } finally {
      await failing.close();
    }
  });
});

describe('inference service: settings', () => {
  it('refuses to start without a token of 16+ characters or with a malformed webhook secret; callbacks need the secret', async () => {
    await expect(createInferenceService(model, { token: 'short', stateDir: join(work, 's1') })).rejects.toMatchObject({ code: 'BAD_VALUE' });
    await expect(createInferenceService(model, { token: TOKEN, stateDir: join(work, 's2'), webhookSecret: 'nope' })).rejects.toMatchObject({ code: 'BAD_VALUE' });
    const service = await createInferenceService(model, { token: TOKEN, stateDir: mkdtempSync(join(work, 's3-')) });
    const r = await service.submit({ inputs: [{ data: 'AAAA' }], callbackUrl: 'http://127.0.0.1:1/h' });
    expect(r).toMatchObject({ ok: false, kind: 'invalid', message: expect.stringMatching(/webhook secret/) });
    await service.shutdown(1000);
  });
});
