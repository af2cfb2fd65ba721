/**
 * The edge API's routes (Hono): uploads, jobs, result files, the GPU workers' callbacks, API-key
 * administration, and the OpenAPI document. Every error answers `{ error: { code, message } }`
 * with a 4xx; a 500 never carries details.
 */
import { canonicalJson } from '@da3js/core';
import { JOB_PROTOCOL_VERSION, type Job, verifyWebhook } from '@da3js/core/protocol';
import { parseFormats } from '@da3js/exporters';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ApiKey, type AuthRefusal, type Scope, authenticate, createApiKey, isAdmin, rateLimit, revokeApiKey } from './auth.js';
import { type Env, settings } from './env.js';
import { type EdgeJob, type StoredInput, publicJob, resultPrefix } from './job-object.js';
import { openApiDocument } from './openapi.js';
import { CreateKeySchema, EdgeJobRequestSchema, UploadRequestSchema, issuesOf } from './schemas.js';
import { isSafeKey, sha256Hex, signedObjectUrl, verifyBlobSignature } from './signing.js';

type App = { Bindings: Env; Variables: { key: ApiKey } };

function fail(c: Context, status: ContentfulStatusCode, code: string, message: string, issues?: { path: string; message: string }[]) {
  return c.json({ error: { code, message, ...(issues ? { issues } : {}) } }, status);
}

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Middleware: an API key with `scope`, within its rate limit. */
function requireKey(scope: Scope) {
  return async (c: Context<App>, next: () => Promise<void>) => {
    const key = await authenticate(c.env, c.req.header('authorization'), scope);
    const refusal: AuthRefusal | undefined = 'status' in key ? key : await rateLimit(c.env, key);
    if (refusal) {
      if (refusal.retryAfter) c.header('retry-after', String(refusal.retryAfter));
      if (refusal.status === 401) c.header('www-authenticate', 'Bearer');
      return fail(c, refusal.status, refusal.code, refusal.message);
    }
    c.set('key', key as ApiKey);
    await next();
  };
}

const stub = (env: Env, id: string) => env.JOBS.get(env.JOBS.idFromName(id));
const JOB_ID = /^job_[0-9a-f]{32}$/;

/** The job if it exists and belongs to the caller. */
async function ownJob(c: Context<App>): Promise<EdgeJob | undefined> {
  const id = c.req.param('id') ?? '';
  if (!JOB_ID.test(id)) return undefined;
  const job = await stub(c.env, id).get();
  return job && job.keyId === c.get('key').id ? job : undefined;
}

function decodeBase64(data: string): Uint8Array {
  const binary = atob(data);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function createApp(): Hono<App> {
  const app = new Hono<App>();
  app.onError((error, c) => {
    console.error(`edge: ${c.req.method} ${c.req.path}: ${(error as Error).stack ?? error}`);
    return fail(c, 500, 'INTERNAL', 'internal error');
  });
  app.notFound((c) => fail(c, 404, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`));
  // Bearer tokens, no cookies: any origin may call the API from a browser.
  app.use('/v1/*', cors({ origin: '*', allowHeaders: ['authorization', 'content-type', 'idempotency-key'], allowMethods: ['GET', 'POST', 'PUT', 'DELETE'], exposeHeaders: ['location', 'retry-after', 'idempotent-replayed'], maxAge: 600 }));

  app.get('/healthz', (c) => c.json({ ok: true, protocolVersion: JOB_PROTOCOL_VERSION, backends: settings(c.env).backends.length }));
  app.get('/v1/openapi.json', (c) => c.json(openApiDocument(settings(c.env).publicUrl)));

  // ── uploads ──────────────────────────────────────────────────────────────────────────────────
  app.post('/v1/uploads', requireKey('uploads:write'), bodyLimit({ maxSize: 256 * 1024, onError: (c) => fail(c, 413, 'PAYLOAD_TOO_LARGE', 'the upload request is over 256 KiB') }), async (c) => {
    const s = settings(c.env);
    const parsed = UploadRequestSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return fail(c, 400, 'BAD_REQUEST', 'the upload request is invalid', issuesOf(parsed.error));
    const tooBig = parsed.data.files.find((f) => f.size > s.maxUploadBytes);
    if (tooBig) return fail(c, 413, 'PAYLOAD_TOO_LARGE', `${tooBig.name} is ${tooBig.size} bytes, over ${s.maxUploadBytes}`);
    const batch = randomHex(8);
    const ttl = 3600;
    const uploads = await Promise.all(
      parsed.data.files.map(async (f) => {
        const key = `in/${c.get('key').id}/${batch}/${f.name}`;
        return { name: f.name, key, method: 'PUT' as const, url: await signedObjectUrl(c.env, s, 'PUT', key, ttl), expiresAt: Math.floor(Date.now() / 1000) + ttl, headers: { 'content-type': f.contentType ?? 'application/octet-stream' } };
      }),
    );
    return c.json({ uploads });
  });

  // Worker-signed object URLs (UPLOAD_MODE=worker): the signature names the method, key and expiry.
  app.on(['GET', 'PUT'], '/v1/blobs/*', async (c) => {
    let key: string;
    try {
      key = decodeURIComponent(c.req.path.slice('/v1/blobs/'.length));
    } catch {
      return fail(c, 400, 'BAD_PATH', 'the key is not valid URL encoding');
    }
    if (!isSafeKey(key) || !(await verifyBlobSignature(c.env, c.req.method, key, c.req.query('expires') ?? null, c.req.query('signature') ?? null))) {
      return fail(c, 403, 'SIGNATURE_INVALID', 'this URL is not signed for this object and method, or it has expired');
    }
    if (c.req.method === 'GET') {
      const object = await c.env.BUCKET.get(key);
      if (!object) return fail(c, 404, 'NOT_FOUND', 'no such object');
      return c.body(object.body, 200, { 'content-type': object.httpMetadata?.contentType ?? 'application/octet-stream', 'content-length': String(object.size), etag: object.httpEtag });
    }
    const length = Number(c.req.header('content-length'));
    const limit = settings(c.env).maxUploadBytes;
    if (!Number.isSafeInteger(length) || length < 0) return fail(c, 411, 'LENGTH_REQUIRED', 'a Content-Length header is required');
    if (length > limit) return fail(c, 413, 'PAYLOAD_TOO_LARGE', `${length} bytes is over ${limit}`);
    await c.env.BUCKET.put(key, c.req.raw.body ?? new Uint8Array(0), { httpMetadata: { contentType: c.req.header('content-type') ?? 'application/octet-stream' } });
    return c.body(null, 200);
  });

  // ── jobs ─────────────────────────────────────────────────────────────────────────────────────
  app.post(
    '/v1/jobs',
    requireKey('jobs:write'),
    async (c, next) => {
      if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) return fail(c, 415, 'UNSUPPORTED_MEDIA_TYPE', 'send the job as application/json');
      await next();
    },
    async (c, next) => bodyLimit({ maxSize: Math.ceil(settings(c.env).maxInlineBytes * 1.4) + 65536, onError: (cc) => fail(cc, 413, 'PAYLOAD_TOO_LARGE', 'the body is over the inline limit; upload large inputs with POST /v1/uploads') })(c, next),
    async (c) => {
      const s = settings(c.env);
      const key = c.get('key');
      let body: unknown;
      try {
        body = await c.req.json();
      } catch (error) {
        return fail(c, 400, 'BAD_JSON', `the body is not valid JSON: ${(error as Error).message}`);
      }
      const parsed = EdgeJobRequestSchema.safeParse(body);
      if (!parsed.success) return fail(c, 400, 'BAD_REQUEST', 'the job request is invalid', issuesOf(parsed.error));
      const request = parsed.data;
      try {
        parseFormats(request.formats ?? 'mini_npz');
      } catch (error) {
        return fail(c, 400, 'UNKNOWN_FORMAT', (error as Error).message);
      }
      if (request.inputs.some((i) => 'url' in i)) return fail(c, 400, 'BAD_REQUEST', 'the edge API does not fetch inputs by URL: upload them (POST /v1/uploads) and pass their keys, or send them inline');
      if (request.inputs.filter((i) => i.kind === 'video').length > 0 && request.inputs.length > 1) return fail(c, 400, 'BAD_REQUEST', 'a video must be the only input of its job');
      const headerKey = c.req.header('idempotency-key');
      if (headerKey && request.idempotencyKey && headerKey !== request.idempotencyKey) return fail(c, 400, 'BAD_REQUEST', 'the Idempotency-Key header and the body idempotencyKey differ');
      const idem = headerKey || request.idempotencyKey;
      const id = `job_${randomHex(16)}`;

      // Idempotency first: the row is claimed before anything is created, so two concurrent
      // requests with one key make one job.
      if (idem) {
        const { idempotencyKey: _k, ...rest } = request;
        const hash = await sha256Hex(canonicalJson(rest));
        const inserted = await c.env.DB.prepare('INSERT OR IGNORE INTO idempotency (key_id, idem_key, job_id, request_hash, created_at) VALUES (?, ?, ?, ?, ?)').bind(key.id, idem, id, hash, Date.now()).run();
        if ((inserted.meta.changes ?? 0) === 0) {
          const row = await c.env.DB.prepare('SELECT job_id, request_hash FROM idempotency WHERE key_id = ? AND idem_key = ?').bind(key.id, idem).first<{ job_id: string; request_hash: string }>();
          if (row && row.request_hash !== hash) return fail(c, 409, 'IDEMPOTENCY_KEY_REUSED', `the idempotency key ${JSON.stringify(idem)} was used for another request`);
          for (let i = 0; i < 20; i++) {
            const existing = row ? await stub(c.env, row.job_id).get() : undefined;
            if (existing) {
              c.header('idempotent-replayed', 'true');
              c.header('location', `/v1/jobs/${existing.id}`);
              return c.json(publicJob(existing), 200);
            }
            await new Promise((ok) => setTimeout(ok, 50)); // the first request is still creating it
          }
          return fail(c, 409, 'IDEMPOTENCY_KEY_IN_FLIGHT', 'a request with this idempotency key is still being created; retry');
        }
      }

      // Inputs: uploaded objects of this key, or inline bytes stored now.
      const inputs: StoredInput[] = [];
      let inlineBytes = 0;
      for (const [i, input] of request.inputs.entries()) {
        const meta = { ...(input.kind ? { kind: input.kind } : {}), ...(input.name ? { name: input.name } : {}) };
        if ('key' in input) {
          if (!isSafeKey(input.key) || !input.key.startsWith(`in/${key.id}/`)) return fail(c, 403, 'FORBIDDEN', `inputs.${i}.key is not an upload of this API key`);
          const head = await c.env.BUCKET.head(input.key);
          if (!head) return fail(c, 400, 'INPUT_NOT_FOUND', `inputs.${i}.key ${input.key} was never uploaded (or has expired)`);
          inputs.push({ key: input.key, size: head.size, ...meta });
        } else if ('data' in input) {
          const bytes = decodeBase64(input.data);
          inlineBytes += bytes.length;
          if (inlineBytes > s.maxInlineBytes) return fail(c, 413, 'PAYLOAD_TOO_LARGE', `inline inputs are over ${s.maxInlineBytes} bytes; upload them with POST /v1/uploads`);
          const objectKey = `in/${key.id}/inline/${id}/${i}`;
          await c.env.BUCKET.put(objectKey, bytes);
          inputs.push({ key: objectKey, size: bytes.length, ...meta });
        }
      }
      const { inputs: _inputs, ...rest } = request;
      const job: EdgeJob = {
        id,
        keyId: key.id,
        state: 'queued',
        createdAt: Date.now(),
        progress: { stage: 'queued', fraction: 0 },
        timings: {},
        inputs,
        request: { ...rest, ...(idem ? { idempotencyKey: idem } : {}) },
        attempt: 1,
        history: [],
      };
      const created = await stub(c.env, id).create(job);
      await c.env.DISPATCH.send({ jobId: id, attempt: 1 });
      c.header('location', `/v1/jobs/${id}`);
      return c.json(publicJob(created), 202);
    },
  );

  app.get('/v1/jobs/:id', requireKey('jobs:read'), async (c) => {
    const job = await ownJob(c);
    return job ? c.json(publicJob(job)) : fail(c, 404, 'NOT_FOUND', `no job ${c.req.param('id')}`);
  });

  app.delete('/v1/jobs/:id', requireKey('jobs:write'), async (c) => {
    const job = await ownJob(c);
    if (!job) return fail(c, 404, 'NOT_FOUND', `no job ${c.req.param('id')}`);
    return c.json(publicJob((await stub(c.env, job.id).cancel()) ?? job), 202);
  });

  app.get('/v1/jobs/:id/files/*', requireKey('jobs:read'), async (c) => {
    const job = await ownJob(c);
    if (!job) return fail(c, 404, 'NOT_FOUND', `no job ${c.req.param('id')}`);
    let name: string;
    try {
      name = decodeURIComponent(c.req.path.slice(`/v1/jobs/${job.id}/files/`.length));
    } catch {
      return fail(c, 400, 'BAD_PATH', 'the file name is not valid URL encoding');
    }
    const file = job.result?.files.find((f) => f.name === name);
    if (!file) return fail(c, 404, 'NOT_FOUND', `job ${job.id} has no result file ${JSON.stringify(name)}`);
    const objectKey = resultPrefix(job.id, job.attempt) + name;
    if (c.req.query('redirect') === '1') return c.redirect(await signedObjectUrl(c.env, settings(c.env), 'GET', objectKey, 600), 302);
    const object = await c.env.BUCKET.get(objectKey);
    if (!object) return fail(c, 404, 'NOT_FOUND', `the file ${JSON.stringify(name)} is gone`);
    return c.body(object.body, 200, { 'content-type': file.contentType, 'content-length': String(object.size), etag: object.httpEtag });
  });

  // ── GPU workers' callbacks ───────────────────────────────────────────────────────────────────
  app.post('/v1/internal/callback', bodyLimit({ maxSize: 2 ** 20, onError: (c) => fail(c, 413, 'PAYLOAD_TOO_LARGE', 'callback over 1 MiB') }), async (c) => {
    const secret = c.env.WORKER_WEBHOOK_SECRET;
    if (!secret) return fail(c, 404, 'NOT_FOUND', 'callbacks are not configured');
    const text = await c.req.text();
    let event: { data?: Job };
    try {
      event = verifyWebhook(secret, c.req.raw.headers, text) as { data?: Job };
    } catch (error) {
      return fail(c, 401, 'UNAUTHORIZED', (error as Error).message);
    }
    const job = event.data;
    const edgeJob = job?.metadata?.edgeJob;
    const attempt = Number(job?.metadata?.attempt);
    if (!job || !edgeJob || !JOB_ID.test(edgeJob) || !Number.isInteger(attempt)) return fail(c, 400, 'BAD_REQUEST', 'the callback names no edge job');
    await stub(c.env, edgeJob).backendUpdate(attempt, job);
    return c.body(null, 204);
  });

  // ── API keys (admin) ─────────────────────────────────────────────────────────────────────────
  app.post('/v1/admin/keys', async (c) => {
    if (!isAdmin(c.env, c.req.header('authorization'))) return fail(c, 401, 'UNAUTHORIZED', 'the admin token is required');
    const parsed = CreateKeySchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return fail(c, 400, 'BAD_REQUEST', 'invalid key request', issuesOf(parsed.error));
    const created = await createApiKey(c.env, parsed.data.name, parsed.data.scopes ?? ['jobs:write', 'jobs:read', 'uploads:write'], parsed.data.ratePerMinute ?? settings(c.env).ratePerMinute);
    return c.json(created, 201);
  });
  app.delete('/v1/admin/keys/:id', async (c) => {
    if (!isAdmin(c.env, c.req.header('authorization'))) return fail(c, 401, 'UNAUTHORIZED', 'the admin token is required');
    return (await revokeApiKey(c.env, c.req.param('id'))) ? c.body(null, 204) : fail(c, 404, 'NOT_FOUND', 'no such key');
  });

  return app;
}
