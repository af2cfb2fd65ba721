/**
 * The edge API inside workerd with miniflare's R2, Durable Objects, Queues and D1 (no hand-written
 * fakes of the bindings), dispatching to two real GPU workers (test/global-setup.ts).
 */
import { SELF, env } from 'cloudflare:test';
import { type Job, signWebhook, verifyWebhook } from '@da3js/core/protocol';
import { describe, expect, inject, it } from 'vitest';

const BASE = 'https://edge.test';
const ADMIN = { authorization: 'Bearer admin-token-0123456789abcdef', 'content-type': 'application/json' };

async function newKey(body: Record<string, unknown> = { name: 'test' }): Promise<{ id: string; key: string }> {
  const r = await SELF.fetch(`${BASE}/v1/admin/keys`, { method: 'POST', headers: ADMIN, body: JSON.stringify(body) });
  expect(r.status).toBe(201);
  return r.json();
}

const as = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

async function submit(key: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await SELF.fetch(`${BASE}/v1/jobs`, { method: 'POST', headers: { ...as(key), ...headers }, body: JSON.stringify(body) });
  return { status: r.status, headers: r.headers, body: (await r.json()) as Job & { attempt: number; error?: { code: string; message: string } } };
}

async function waitFor(key: string, id: string, until = (j: Job) => ['succeeded', 'failed', 'canceled'].includes(j.state)): Promise<Job & { attempt: number }> {
  for (let i = 0; i < 600; i++) {
    const job = (await (await SELF.fetch(`${BASE}/v1/jobs/${id}`, { headers: as(key) })).json()) as Job & { attempt: number };
    if (until(job)) return job;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`job ${id} did not end`);
}

const pngs = () => inject('fixturePngs');

describe('edge API: a job end to end', () => {
  it('inline images → queued → dispatched to a GPU worker → results in R2 → downloadable; the user webhook is signed', async () => {
    const { key } = await newKey();
    const hook = `${inject('receiverUrl')}/hooks/${crypto.randomUUID()}`;
    const r = await submit(key, { inputs: pngs().map((data, i) => ({ data, name: `${i}.png` })), options: { processRes: 84 }, formats: 'mini_npz-glb', callbackUrl: hook });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ state: 'queued', attempt: 1 });
    const job = await waitFor(key, r.body.id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result).toMatchObject({ views: 3, width: 84, height: 56 });
    const names = job.result!.files.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['exports/mini_npz/results.npz', 'scene.glb', 'depth_vis/0000.jpg', 'scene.jpg']));
    for (const f of job.result!.files) {
      const res = await SELF.fetch(`${BASE}${f.url}`, { headers: as(key) });
      expect(res.status).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(bytes.length).toBe(f.size);
      const sha = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
      expect(sha).toBe(f.sha256);
      // And the object is in R2 under the attempt's prefix.
      expect((await env.BUCKET.head(`out/${job.id}/a1/${f.name}`))?.size).toBe(f.size);
    }
    const glb = await SELF.fetch(`${BASE}/v1/jobs/${job.id}/files/scene.glb`, { headers: as(key) });
    expect(new TextDecoder().decode(new Uint8Array(await glb.arrayBuffer()).subarray(0, 4))).toBe('glTF');
    // The user's webhook: delivered once, signed with the API's secret (Standard Webhooks).
    const done = await waitFor(key, job.id, (j) => j.callback?.state === 'delivered');
    expect(done.callback).toEqual({ state: 'delivered', attempts: 1 });
    const deliveries = (await (await fetch(`${inject('receiverUrl')}/deliveries`)).json()) as { headers: Record<string, string>; body: string }[];
    const mine = deliveries.filter((d) => d.headers['webhook-id'] === `${job.id}.succeeded`);
    expect(mine).toHaveLength(1);
    const event = verifyWebhook(inject('webhookSecret'), mine[0].headers, mine[0].body) as { type: string; data: Job };
    expect(event).toMatchObject({ type: 'job.succeeded', data: { id: job.id, state: 'succeeded' } });
  });

  it('uploads: presigned PUT URLs for the caller only; a job from uploaded keys; another key’s objects are 403', async () => {
    const a = await newKey({ name: 'a' });
    const b = await newKey({ name: 'b' });
    const up = await SELF.fetch(`${BASE}/v1/uploads`, { method: 'POST', headers: as(a.key), body: JSON.stringify({ files: pngs().map((p, i) => ({ name: `view${i}.png`, size: atob(p).length, contentType: 'image/png' })) }) });
    expect(up.status).toBe(200);
    const { uploads } = (await up.json()) as { uploads: { name: string; key: string; url: string; method: string }[] };
    expect(uploads.every((u) => u.key.startsWith(`in/${a.id}/`))).toBe(true);
    for (const [i, u] of uploads.entries()) {
      const bytes = Uint8Array.from(atob(pngs()[i]), (c) => c.charCodeAt(0));
      const url = new URL(u.url);
      const put = await SELF.fetch(`${BASE}${url.pathname}${url.search}`, { method: 'PUT', headers: { 'content-type': 'image/png', 'content-length': String(bytes.length) }, body: bytes });
      expect(put.status).toBe(200);
    }
    // A signature for one object does not open another; a GET signature does not allow a PUT.
    const first = new URL(uploads[0].url);
    const forged = first.pathname.replace('view0.png', 'view9.png');
    expect((await SELF.fetch(`${BASE}${forged}${first.search}`, { method: 'PUT', headers: { 'content-length': '1' }, body: 'x' })).status).toBe(403);
    expect((await SELF.fetch(`${BASE}${first.pathname}${first.search}`)).status).toBe(403);
    // B cannot use A's uploads.
    const stolen = await submit(b.key, { inputs: uploads.map((u) => ({ key: u.key })) });
    expect(stolen.status).toBe(403);
    expect(stolen.body.error!.code).toBe('FORBIDDEN');
    const never = await submit(a.key, { inputs: [{ key: `in/${a.id}/nope/x.png` }] });
    expect(never.body.error!.code).toBe('INPUT_NOT_FOUND');
    const r = await submit(a.key, { inputs: uploads.map((u) => ({ key: u.key, name: u.name })), options: { processRes: 84 } });
    expect(r.status).toBe(202);
    expect((await waitFor(a.key, r.body.id)).state).toBe('succeeded');
    // B cannot see A's job.
    expect((await SELF.fetch(`${BASE}/v1/jobs/${r.body.id}`, { headers: as(b.key) })).status).toBe(404);
  });

  it('idempotency: the same key returns the same job; another request with it is 409', async () => {
    const { key } = await newKey();
    const body = { inputs: [{ data: pngs()[0] }], options: { processRes: 84 } };
    const first = await submit(key, body, { 'idempotency-key': 'edge-idem-1' });
    const again = await submit(key, body, { 'idempotency-key': 'edge-idem-1' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const other = await submit(key, { ...body, formats: 'glb' }, { 'idempotency-key': 'edge-idem-1' });
    expect(other.status).toBe(409);
    expect((await waitFor(key, first.body.id)).state).toBe('succeeded');
  });

  it('cancel: a queued or running job ends canceled and stays so', async () => {
    const { key } = await newKey();
    const r = await submit(key, { inputs: [{ data: pngs()[0] }], options: { processRes: 84 } });
    const del = await SELF.fetch(`${BASE}/v1/jobs/${r.body.id}`, { method: 'DELETE', headers: as(key) });
    expect(del.status).toBe(202);
    expect(((await del.json()) as Job).state).toBe('canceled');
    await new Promise((ok) => setTimeout(ok, 1500));
    expect((await waitFor(key, r.body.id)).state).toBe('canceled');
  });
});

describe('edge API: the GPU workers’ callbacks', () => {
  it('a forged, replayed or unsigned callback is 401; a valid one for an unknown attempt changes nothing', async () => {
    const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: { id: 'x', metadata: { edgeJob: `job_${'0'.repeat(32)}`, attempt: '1' } } });
    const url = `${BASE}/v1/internal/callback`;
    expect((await SELF.fetch(url, { method: 'POST', body })).status).toBe(401);
    const forged = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'm1', body);
    expect((await SELF.fetch(url, { method: 'POST', headers: { ...forged }, body })).status).toBe(401);
    const old = signWebhook(inject('workerWebhookSecret'), 'm2', body, new Date(Date.now() - 15 * 60_000));
    expect((await SELF.fetch(url, { method: 'POST', headers: { ...old }, body })).status).toBe(401);
    const good = signWebhook(inject('workerWebhookSecret'), 'm3', body);
    expect((await SELF.fetch(url, { method: 'POST', headers: { ...good }, body })).status).toBe(204);
    expect(verifyWebhook(inject('workerWebhookSecret'), good as unknown as Record<string, string>, body)).toBeTruthy();
  });
});

describe('edge API: strangers get 4xx, never a 500', () => {
  it('missing, unknown and revoked keys → 401; a key without the scope → 403; over the rate limit → 429 with Retry-After', async () => {
    expect((await SELF.fetch(`${BASE}/v1/jobs/job_x`)).status).toBe(401);
    expect((await SELF.fetch(`${BASE}/v1/jobs/job_x`, { headers: as('da3_nope') })).status).toBe(401);
    const k = await newKey();
    expect((await SELF.fetch(`${BASE}/v1/admin/keys/${k.id}`, { method: 'DELETE', headers: ADMIN })).status).toBe(204);
    const revoked = await SELF.fetch(`${BASE}/v1/jobs/job_x`, { headers: as(k.key) });
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'this API key was revoked' } });
    const readOnly = await newKey({ name: 'ro', scopes: ['jobs:read'] });
    expect((await submit(readOnly.key, { inputs: [{ data: pngs()[0] }] })).status).toBe(403);
    const slow = await newKey({ name: 'slow', ratePerMinute: 3 });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const r = await SELF.fetch(`${BASE}/v1/jobs/job_${'0'.repeat(32)}`, { headers: as(slow.key) });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await SELF.fetch(`${BASE}/v1/admin/keys`, { method: 'POST', headers: as(k.key), body: '{}' })).status).toBe(401);
  });

  it('bad bodies, oversize inline inputs, unknown formats, URL inputs, path tricks → 400/404/413/415 with typed bodies', async () => {
    const { key } = await newKey();
    const cases: [RequestInit, number, string][] = [
      [{ body: '{"inputs": [' }, 400, 'BAD_JSON'],
      [{ body: 'null' }, 400, 'BAD_REQUEST'],
      [{ body: JSON.stringify({ inputs: [{ data: 'x' }], admin: true }) }, 400, 'BAD_REQUEST'],
      [{ body: JSON.stringify({ inputs: [{ data: pngs()[0] }], formats: 'glb-pointz' }) }, 400, 'UNKNOWN_FORMAT'],
      [{ body: JSON.stringify({ inputs: [{ url: 'http://169.254.169.254/latest' }] }) }, 400, 'BAD_REQUEST'],
      [{ body: JSON.stringify({ inputs: [{ key: '../../etc/passwd' }] }) }, 403, 'FORBIDDEN'],
      [{ body: JSON.stringify({ inputs: [{ data: pngs()[0] }], options: { processRes: 100000 } }) }, 400, 'BAD_REQUEST'],
      [{ body: JSON.stringify({ inputs: [{ data: 'A'.repeat(12 * 2 ** 20) }] }) }, 413, 'PAYLOAD_TOO_LARGE'],
      [{ body: JSON.stringify({ inputs: [{ data: pngs()[0] }] }), headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [init, status, code] of cases) {
      const r = await SELF.fetch(`${BASE}/v1/jobs`, { method: 'POST', ...init, headers: { ...as(key), ...(init.headers as Record<string, string>) } });
      const text = await r.text();
      expect(r.status, `${String(init.body).slice(0, 60)} → ${text.slice(0, 200)}`).toBe(status);
      expect(JSON.parse(text).error.code).toBe(code);
    }
    for (const path of ['/v1/jobs/..%2F..%2Fadmin', '/v1/jobs/job_x/files/..%2F..%2Fsecret', '/v1/blobs/in/..%2F..%2Fx?expires=1&signature=00', '/v1/nope']) {
      const r = await SELF.fetch(`${BASE}${path}`, { headers: as(key) });
      expect([403, 404], path).toContain(r.status);
    }
    const openapi = (await (await SELF.fetch(`${BASE}/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/uploads', '/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/files/{path}']));
  });
});
