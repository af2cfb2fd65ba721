/**
 * A tiny S3-like object store on 127.0.0.1 for the service tests: objects by key, presigned GET and
 * PUT URLs (`?X-Expires=<unix s>&X-Signature=<hmac-sha256(method:key:expires)>`, refused with 403
 * when forged or expired, like a presigned S3/R2 URL), and fault switches: PUTs failing N times,
 * GETs answering slowly or never, a request log.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ObjectStore {
  readonly origin: string;
  readonly objects: Map<string, Buffer>;
  readonly log: { method: string; key: string; status: number }[];
  presign(method: 'GET' | 'PUT', key: string, ttlSeconds?: number): string;
  /** The next `times` PUTs of `key` answer `status` (default 500). */
  failPut(key: string, times: number, status?: number): void;
  /** GETs of `key` wait `ms` before answering (Infinity: never). */
  delayGet(key: string, ms: number): void;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startObjectStore(): Promise<ObjectStore> {
  const secret = randomBytes(16);
  const objects = new Map<string, Buffer>();
  const log: ObjectStore['log'] = [];
  const failures = new Map<string, { times: number; status: number }>();
  const delays = new Map<string, number>();
  const sign = (method: string, key: string, expires: number) => createHmac('sha256', secret).update(`${method}:${key}:${expires}`).digest('hex');
  let origin = '';

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = decodeURIComponent(url.pathname.slice(1));
    const entry = { method: req.method ?? '', key, status: 0 };
    log.push(entry);
    const answer = (status: number, text = '') => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(text);
    };
    const expires = Number(url.searchParams.get('X-Expires'));
    const signature = url.searchParams.get('X-Signature') ?? '';
    if (!Number.isFinite(expires) || signature !== sign(req.method ?? '', key, expires)) return answer(403, 'SignatureDoesNotMatch');
    if (Date.now() / 1000 > expires) return answer(403, 'Request has expired');
    if (req.method === 'PUT') {
      const data = await body(req);
      const f = failures.get(key);
      if (f && f.times > 0) {
        f.times--;
        return answer(f.status, 'InternalError');
      }
      objects.set(key, data);
      return answer(200);
    }
    if (req.method === 'GET') {
      const delay = delays.get(key) ?? 0;
      if (delay === Number.POSITIVE_INFINITY) return; // never answers
      if (delay > 0) await new Promise((ok) => setTimeout(ok, delay));
      const data = objects.get(key);
      if (!data) return answer(404, 'NoSuchKey');
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
      return res.end(data);
    }
    answer(405);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    objects,
    log,
    presign(method, key, ttlSeconds = 600) {
      const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
      return `${origin}/${key.split('/').map(encodeURIComponent).join('/')}?X-Expires=${expires}&X-Signature=${sign(method, key, expires)}`;
    },
    failPut(key, times, status = 500) {
      failures.set(key, { times, status });
    },
    delayGet(key, ms) {
      delays.set(key, ms);
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A webhook receiver on 127.0.0.1: records every delivery (headers + raw body); can refuse the next N. */
export interface CallbackReceiver {
  readonly url: string;
  readonly received: { headers: Record<string, string>; body: string; status: number }[];
  /** The next `times` deliveries answer 503 (the receiver "is down"). */
  refuse(times: number): void;
  close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received: CallbackReceiver['received'] = [];
  let refusals = 0;
  const server = createServer(async (req, res) => {
    const text = (await body(req)).toString('utf8');
    const status = refusals > 0 ? 503 : 200;
    if (refusals > 0) refusals--;
    received.push({ headers: req.headers as Record<string, string>, body: text, status });
    res.writeHead(status);
    res.end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/da3`,
    received,
    refuse(times) {
      refusals = times;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
