/**
 * Local servers that follow the documented HTTP contracts of the client's backends, in front of a
 * real da3js inference service (test-only):
 * - {@link startModalProxy}: Modal web endpoints (https://modal.com/docs/guide/webhook-proxy-auth,
 *   https://modal.com/docs/guide/webhook-timeouts): `Modal-Key`/`Modal-Secret` proxy auth (401
 *   "modal-http: missing credentials for proxy authorization"), and a request that outlives the
 *   endpoint's time limit (150 s on Modal, scaled down here) answered with a 303 to a result URL
 *   that blocks until the response is ready.
 * - {@link startReplicate}: Replicate's predictions API (https://replicate.com/docs/reference/http):
 *   `POST /v1/predictions` {version, input} with `Authorization: Bearer`, `Prefer: wait=<s>` sync
 *   mode, `GET /v1/predictions/:id`, `POST /v1/predictions/:id/cancel`, statuses
 *   starting/processing/succeeded/failed/canceled, output file URLs on a delivery origin that
 *   expire.
 * - {@link startFlakyProxy}: forwards to a server but cuts the connection of chosen responses
 *   after the server acted (the request succeeded, the client never heard).
 */
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const listen = async (server: Server) => {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const closer = (server: Server) => () =>
  new Promise<void>((ok) => {
    server.closeAllConnections();
    server.close(() => ok());
  });

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Forwards `req` to `upstream` and returns status, headers and body. */
async function forward(upstream: string, req: IncomingMessage, body: Buffer, headers: Record<string, string> = {}) {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length', 'modal-key', 'modal-secret'].includes(k)) h[k] = v;
  const res = await fetch(`${upstream}${req.url}`, { method: req.method, headers: { ...h, ...headers }, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) };
}

function reply(res: ServerResponse, r: { status: number; headers: Record<string, string>; body: Buffer }) {
  const headers = { ...r.headers };
  delete headers['content-encoding'];
  delete headers['transfer-encoding'];
  headers['content-length'] = String(r.body.length);
  res.writeHead(r.status, headers);
  res.end(r.body);
}

export interface ModalProxy {
  readonly url: string;
  readonly tokenId: string;
  readonly tokenSecret: string;
  /** Requests answered with a 303 (they outlived the time limit). */
  redirects: number;
  /** Hold every forwarded request this long first (a cold start). */
  delayMs: number;
  close(): Promise<void>;
}

/** Modal's proxy in front of `upstream` (see the module comment); `timeLimitMs` stands for Modal's 150 s. */
export async function startModalProxy(upstream: string, timeLimitMs = 200): Promise<ModalProxy> {
  const tokenId = `wk-${randomBytes(6).toString('hex')}`;
  const tokenSecret = `ws-${randomBytes(12).toString('hex')}`;
  const pending = new Map<string, Promise<Awaited<ReturnType<typeof forward>>>>();
  const state = { redirects: 0, delayMs: 0 };
  const server = createServer(async (req, res) => {
    if (req.headers['modal-key'] !== tokenId || req.headers['modal-secret'] !== tokenSecret) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return res.end('modal-http: missing credentials for proxy authorization');
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const callId = url.searchParams.get('__modal_function_call_id');
    if (callId) {
      const p = pending.get(callId);
      if (!p) {
        res.writeHead(404);
        return res.end('modal-http: unknown function call');
      }
      return reply(res, await p); // the result URL blocks until the request completes
    }
    const body = await readBody(req);
    const work = (async () => {
      await new Promise((ok) => setTimeout(ok, state.delayMs));
      return forward(upstream, req, body);
    })();
    const outcome = await Promise.race([work, new Promise<'late'>((ok) => setTimeout(() => ok('late'), timeLimitMs))]);
    if (outcome === 'late') {
      const id = `fc-${randomBytes(8).toString('hex')}`;
      pending.set(id, work);
      state.redirects++;
      url.searchParams.set('__modal_function_call_id', id);
      res.writeHead(303, { location: `${url.pathname}${url.search}` });
      return res.end();
    }
    reply(res, outcome);
  });
  const url = await listen(server);
  return {
    url,
    tokenId,
    tokenSecret,
    get redirects() {
      return state.redirects;
    },
    set redirects(v) {
      state.redirects = v;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v) {
      state.delayMs = v;
    },
    close: closer(server),
  };
}

export interface FlakyProxy {
  readonly url: string;
  /** The next `times` responses to `method path-prefix` are cut (socket destroyed) after the upstream answered. */
  cut(method: string, pathPrefix: string, times: number): void;
  readonly forwarded: { method: string; path: string }[];
  close(): Promise<void>;
}

export async function startFlakyProxy(upstream: string): Promise<FlakyProxy> {
  const cuts: { method: string; prefix: string; times: number }[] = [];
  const forwarded: FlakyProxy['forwarded'] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    forwarded.push({ method: req.method ?? '', path: req.url ?? '' });
    const r = await forward(upstream, req, body);
    const cut = cuts.find((c) => c.times > 0 && c.method === req.method && (req.url ?? '').startsWith(c.prefix));
    if (cut) {
      cut.times--;
      res.socket?.destroy();
      return;
    }
    reply(res, r);
  });
  const url = await listen(server);
  return {
    url,
    forwarded,
    cut(method, prefix, times) {
      cuts.push({ method, prefix, times });
    },
    close: closer(server),
  };
}

export interface FakeReplicate {
  readonly url: string;
  readonly token: string;
  readonly version: string;
  /** How long output URLs stay valid, in ms. */
  outputTtlMs: number;
  readonly predictionsCreated: number;
  close(): Promise<void>;
}

/**
 * Replicate's predictions API whose model is the da3js service at `worker` (bearer `workerToken`):
 * a prediction's input becomes a job, its result the prediction's output, with the files copied to
 * a delivery origin under expiring URLs.
 */
export async function startReplicate(worker: string, workerToken: string): Promise<FakeReplicate> {
  const token = `r8_${randomBytes(12).toString('hex')}`;
  const version = randomBytes(32).toString('hex');
  const predictions = new Map<string, { p: Record<string, unknown>; jobId?: string; done: Promise<void> }>();
  const delivered = new Map<string, { bytes: Buffer; expires: number; type: string }>();
  const state = { outputTtlMs: 60_000, created: 0 };
  let deliveryOrigin = '';
  const wauth = { authorization: `Bearer ${workerToken}` };

  const delivery = createServer((req, res) => {
    const f = delivered.get(req.url ?? '');
    if (!f || Date.now() > f.expires) {
      res.writeHead(404);
      return res.end('expired or unknown');
    }
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.bytes.length });
    res.end(f.bytes);
  });
  deliveryOrigin = await listen(delivery);

  const run = async (id: string, input: Record<string, string | string[]>) => {
    const entry = predictions.get(id)!;
    const images = input.images as string[];
    const inputs = images.map((u) => (u.startsWith('data:') ? { data: u.slice(u.indexOf(',') + 1) } : { url: u }));
    const submit = await fetch(`${worker}/v1/jobs`, {
      method: 'POST',
      headers: { ...wauth, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs, options: JSON.parse(input.options as string), formats: input.formats, exportOptions: JSON.parse(input.export_options as string) }),
    });
    const job = (await submit.json()) as { id: string };
    entry.jobId = job.id;
    entry.p.status = 'processing';
    entry.p.started_at = new Date().toISOString();
    for (;;) {
      const j = (await (await fetch(`${worker}/v1/jobs/${job.id}`, { headers: wauth })).json()) as { state: string; result?: { files: { name: string; url: string; contentType: string }[] }; error?: { message: string } };
      if (entry.p.status === 'canceled') return;
      if (j.state === 'succeeded') {
        const files = [];
        for (const f of j.result!.files) {
          const bytes = Buffer.from(await (await fetch(`${worker}${f.url}`, { headers: wauth })).arrayBuffer());
          const path = `/pbxt/${randomBytes(8).toString('hex')}/${f.name}`;
          delivered.set(path, { bytes, expires: Date.now() + state.outputTtlMs, type: f.contentType });
          files.push({ ...f, url: `${deliveryOrigin}${path}` });
        }
        entry.p.output = { ...j.result, files };
        entry.p.status = 'succeeded';
        break;
      }
      if (j.state === 'failed' || j.state === 'canceled') {
        entry.p.status = j.state;
        entry.p.error = j.error?.message ?? null;
        break;
      }
      await new Promise((ok) => setTimeout(ok, 30));
    }
    entry.p.completed_at = new Date().toISOString();
  };

  const api = createServer(async (req, res) => {
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { title: 'Unauthenticated', detail: 'You did not pass a valid authentication token', status: 401 });
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v1\/predictions(?:\/([^/]+))?(\/cancel)?$/.exec(url.pathname);
    if (!m) return send(404, { detail: 'Not found.', status: 404 });
    if (req.method === 'POST' && !m[1]) {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as { version?: string; input?: Record<string, string | string[]> };
      if (body.version !== version) return send(422, { title: 'Invalid version', detail: 'The specified version does not exist', status: 422 });
      const id = randomBytes(13).toString('hex').slice(0, 26);
      const p: Record<string, unknown> = {
        id,
        version,
        input: body.input,
        status: 'starting',
        output: null,
        error: null,
        created_at: new Date().toISOString(),
        urls: { get: `${urlOf()}/v1/predictions/${id}`, cancel: `${urlOf()}/v1/predictions/${id}/cancel` },
      };
      const entry = { p, done: Promise.resolve() };
      predictions.set(id, entry);
      state.created++;
      entry.done = run(id, body.input ?? {}).catch((error) => {
        entry.p.status = 'failed';
        entry.p.error = String((error as Error).message);
      });
      const wait = /^wait(?:=(\d+))?$/.exec(String(req.headers.prefer ?? ''));
      if (wait) await Promise.race([entry.done, new Promise((ok) => setTimeout(ok, 1000 * Number(wait[1] ?? 60)))]);
      return send(201, p);
    }
    const entry = m[1] ? predictions.get(m[1]) : undefined;
    if (!entry) return send(404, { detail: 'Not found.', status: 404 });
    if (req.method === 'GET' && !m[2]) return send(200, entry.p);
    if (req.method === 'POST' && m[2]) {
      if (['starting', 'processing'].includes(entry.p.status as string)) {
        entry.p.status = 'canceled';
        entry.p.completed_at = new Date().toISOString();
        if (entry.jobId) await fetch(`${worker}/v1/jobs/${entry.jobId}`, { method: 'DELETE', headers: wauth });
      }
      return send(200, entry.p);
    }
    send(405, { detail: 'Method not allowed' });
  });
  const apiUrl = await listen(api);
  const urlOf = () => apiUrl;
  return {
    url: apiUrl,
    token,
    version,
    get outputTtlMs() {
      return state.outputTtlMs;
    },
    set outputTtlMs(v) {
      state.outputTtlMs = v;
    },
    get predictionsCreated() {
      return state.created;
    },
    close: async () => {
      await closer(api)();
      await closer(delivery)();
    },
  };
}
