/**
 * The HTTP API of the inference service (job protocol v1, `docs/job-protocol.md`) as a Hono app.
 * Every request passes, in order: the `Host` check (DNS rebinding), the `Origin` check (CORS for
 * the allowed origins, 403 for others), the bearer token (all but `/healthz` and `/readyz`),
 * and for `POST /v1/jobs` the content type (JSON or multipart only: a page's text/plain or form
 * post is refused) and the body limit. Errors are JSON `{ error: { code, message } }`; nothing
 * answers with a stack trace.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { JOB_PROTOCOL_VERSION, type JobInput, parseJobRequest } from '@da3js/core/protocol';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { contentTypeOf } from './runner.js';
import type { InferenceService } from './service.js';

function errorBody(code: string, message: string, issues?: { path: string; message: string }[]) {
  return { error: { code, message, ...(issues ? { issues } : {}) } };
}

function fail(c: Context, status: ContentfulStatusCode, code: string, message: string, issues?: { path: string; message: string }[]) {
  return c.json(errorBody(code, message, issues), status);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time check of `Authorization: Bearer <token>`. */
function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([\x21-\x7e]+)$/.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]), digest(token));
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The `Host` header's name part, lower-case (`[::1]:8008` → `[::1]`). */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d+$/, '');
}

/** Builds the app over a service (see {@link createInferenceService}). */
export function createServiceApp(service: InferenceService): Hono {
  const o = service.options;
  const app = new Hono();
  const allowedHostHeaders = o.allowedHostHeaders ?? (isLoopback(o.host) ? LOOPBACK_HOSTS : undefined);

  app.onError((error, c) => {
    // Body-limit and parse failures arrive here too; anything else is our bug: no details leak.
    console.error(`da3 service: ${c.req.method} ${c.req.path}: ${(error as Error).stack ?? error}`);
    return fail(c, 500, 'INTERNAL', 'internal error');
  });
  app.notFound((c) => fail(c, 404, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`));

  app.use('*', async (c, next) => {
    const host = c.req.header('host');
    if (allowedHostHeaders && (!host || !allowedHostHeaders.includes(hostName(host)))) {
      return fail(c, 403, 'HOST_NOT_ALLOWED', `Host ${JSON.stringify(host ?? '')} is not one this service answers to`);
    }
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      if (!o.allowedOrigins.includes(origin)) return fail(c, 403, 'ORIGIN_NOT_ALLOWED', `Origin ${origin} is not allowed (allowedOrigins)`);
      c.header('access-control-allow-origin', origin);
      c.header('vary', 'Origin');
      if (c.req.method === 'OPTIONS') {
        c.header('access-control-allow-methods', 'GET, POST, DELETE');
        c.header('access-control-allow-headers', 'authorization, content-type, idempotency-key');
        c.header('access-control-max-age', '600');
        return c.body(null, 204);
      }
    }
    if (c.req.path !== '/healthz' && c.req.path !== '/readyz' && !authorized(c.req.header('authorization'), o.token)) {
      c.header('www-authenticate', 'Bearer');
      return fail(c, 401, 'UNAUTHORIZED', 'a valid "Authorization: Bearer <token>" header is required');
    }
    await next();
  });

  app.get('/healthz', (c) => c.json({ ok: true, protocolVersion: JOB_PROTOCOL_VERSION, draining: service.draining }));
  app.get('/readyz', (c) =>
    service.draining ? c.json({ ready: false, reason: 'draining' }, 503) : c.json({ ready: true, queueDepth: service.queueDepth() }),
  );
  app.get('/metrics', (c) => c.text(service.metricsText(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));

  app.post(
    '/v1/jobs',
    async (c, next) => {
      const type = (c.req.header('content-type') ?? '').toLowerCase();
      if (!type.startsWith('application/json') && !type.startsWith('multipart/form-data')) {
        return fail(c, 415, 'UNSUPPORTED_MEDIA_TYPE', 'send the job as application/json (or multipart/form-data with a "job" field and image files)');
      }
      await next();
    },
    bodyLimit({ maxSize: o.maxBodyBytes, onError: (c) => fail(c, 413, 'PAYLOAD_TOO_LARGE', `the request body is over the ${o.maxBodyBytes}-byte limit`) }),
    async (c) => {
      let body: unknown;
      const type = (c.req.header('content-type') ?? '').toLowerCase();
      try {
        body = type.startsWith('multipart/') ? await multipartJob(c) : await c.req.json();
      } catch (error) {
        if ((error as { status?: number }).status === 413) throw error;
        return fail(c, 400, 'BAD_JSON', `the body is not valid ${type.startsWith('multipart/') ? 'multipart with a JSON "job" field' : 'JSON'}: ${(error as Error).message}`);
      }
      const parsed = parseJobRequest(body);
      if (!parsed.ok) return fail(c, 400, 'BAD_REQUEST', 'the job request is invalid', parsed.issues);
      const result = await service.submit(parsed.request, c.req.header('idempotency-key') || undefined);
      if (result.ok) {
        c.header('location', `/v1/jobs/${result.job.id}`);
        if (result.replayed) c.header('idempotent-replayed', 'true');
        return c.json(result.job, result.replayed ? 200 : 202);
      }
      if (result.kind === 'busy') {
        c.header('retry-after', String(result.retryAfterSeconds));
        return result.draining ? fail(c, 503, 'DRAINING', 'the service is shutting down; retry elsewhere or later') : fail(c, 429, 'QUEUE_FULL', `the queue is full (${o.maxQueue} jobs)`);
      }
      if (result.kind === 'conflict') return fail(c, 409, 'IDEMPOTENCY_KEY_REUSED', result.message);
      return fail(c, 400, result.code, result.message);
    },
  );

  app.get('/v1/jobs/:id', (c) => {
    const job = service.get(c.req.param('id'));
    return job ? c.json(job) : fail(c, 404, 'NOT_FOUND', `no job ${c.req.param('id')}`);
  });

  app.delete('/v1/jobs/:id', async (c) => {
    const job = await service.cancel(c.req.param('id'));
    return job ? c.json(job, 202) : fail(c, 404, 'NOT_FOUND', `no job ${c.req.param('id')}`);
  });

  app.get('/v1/jobs/:id/files/*', async (c) => {
    const id = c.req.param('id');
    const prefix = `/v1/jobs/${id}/files/`;
    let name: string;
    try {
      name = decodeURIComponent(c.req.path.slice(prefix.length));
    } catch {
      return fail(c, 400, 'BAD_PATH', 'the file name is not valid URL encoding');
    }
    const path = service.filePath(id, name); // only names in the job's manifest
    if (!path) return fail(c, 404, 'NOT_FOUND', `job ${id} has no kept file ${JSON.stringify(name)}`);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return fail(c, 404, 'NOT_FOUND', `the file ${JSON.stringify(name)} of job ${id} is gone (job expired?)`);
    }
    const stream = createReadStream(path);
    return c.body(Readable.toWeb(stream) as ReadableStream, 200, { 'content-type': contentTypeOf(name), 'content-length': String(size) });
  });

  return app;
}

/** A multipart job: a `job` field with the JSON request (its `inputs` may be empty) + files, appended as inline inputs. */
async function multipartJob(c: Context): Promise<unknown> {
  const form = await c.req.formData();
  const field = form.get('job');
  const job = typeof field === 'string' ? (JSON.parse(field) as Record<string, unknown>) : {};
  const inputs: JobInput[] = Array.isArray(job.inputs) ? [...(job.inputs as JobInput[])] : [];
  for (const [key, value] of form.entries()) {
    if (key === 'job' || typeof value === 'string') continue;
    const kind = key === 'video' ? 'video' : 'image';
    inputs.push({ data: Buffer.from(await value.arrayBuffer()).toString('base64'), name: value.name || undefined, kind });
  }
  return { ...job, inputs };
}
