// The whole DA3 stack on loopback, for the end-to-end test and the load test: N GPU workers
// (apps/gpu-worker as child processes, the tiny fixture model), each behind a fault-injecting
// proxy, and the edge API under `wrangler dev` (local mode: R2, Durable Objects, Queues and D1 from
// miniflare), wired together. Everything listens on 127.0.0.1 and stops with `stop()`.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const edgeDir = join(here, '..');
const root = join(edgeDir, '..', '..');
const FIXTURE_MODEL = join(process.env.DA3_FIXTURES ?? join(root, 'fixtures'), 'tiny');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createNetServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitFor(url, ms, ok = (r) => r.ok) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (ok(r)) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`stack: ${url} did not come up within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A proxy in front of a GPU worker that fails a fraction of the requests it forwards: half answer
 * 500, a quarter are reset, a quarter hang for `hangMs` (past the edge's backend timeout).
 */
function faultProxy(target, faults) {
  const stats = { forwarded: 0, failed500: 0, reset: 0, hung: 0 };
  const server = createServer((req, res) => {
    const roll = Math.random();
    if (roll < faults.rate) {
      const kind = roll / faults.rate;
      if (kind < 0.5) {
        stats.failed500++;
        res.writeHead(500, { 'content-type': 'application/json' });
        return res.end('{"error":{"code":"INJECTED","message":"injected fault"}}');
      }
      if (kind < 0.75) {
        stats.reset++;
        return req.socket.destroy();
      }
      stats.hung++;
      const t = setTimeout(() => req.socket.destroy(), faults.hangMs);
      req.socket.once('close', () => clearTimeout(t));
      return;
    }
    stats.forwarded++;
    const up = httpRequest({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  return { server, stats };
}

/**
 * Starts the stack.
 * @param {{ workers?: number, faults?: { rate: number, hangMs: number }, log?: string, vars?: Record<string, string> }} options
 */
export async function startStack(options = {}) {
  const work = mkdtempSync(join(tmpdir(), 'da3-stack-'));
  const log = createWriteStream(options.log ?? join(work, 'stack.log'));
  const workerSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const userSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const adminToken = randomBytes(24).toString('base64url');
  const faults = options.faults ?? { rate: 0, hangMs: 0 };
  const children = new Set();
  const spawnLogged = (cmd, args, env, name) => {
    const child = spawn(cmd, args, { cwd: edgeDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => log.write(`[${name}] ${d}`));
    child.stderr.on('data', (d) => log.write(`[${name}] ${d}`));
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  // GPU workers, each behind its fault proxy.
  const workers = [];
  for (let i = 0; i < (options.workers ?? 2); i++) {
    const port = await freePort();
    const token = randomBytes(18).toString('base64url');
    const env = {
      DA3_MODEL: FIXTURE_MODEL,
      DA3_TOKEN: token,
      DA3_CACHE: join(work, 'cache'),
      DA3_STATE_DIR: join(work, `gpu${i}`),
      PORT: String(port),
      DA3_WEBHOOK_SECRET: workerSecret,
      DA3_MAX_QUEUE: '256',
      DA3_GRACE_MS: '2000',
      HF_HUB_OFFLINE: '1',
    };
    const start = () => spawnLogged(process.execPath, [join(root, 'apps', 'gpu-worker', 'dist', 'main.js')], env, `gpu${i}`);
    const worker = { port, token, env, child: start(), start };
    await waitFor(`http://127.0.0.1:${port}/readyz`, 120_000);
    const proxyPort = await freePort();
    const proxy = faultProxy(worker, faults);
    await new Promise((ok) => proxy.server.listen(proxyPort, '127.0.0.1', ok));
    workers.push({ ...worker, proxy, proxyUrl: `http://127.0.0.1:${proxyPort}` });
  }

  // The edge under wrangler dev.
  const edgePort = await freePort();
  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  const persist = join(work, 'wrangler-state');
  const wranglerEnv = { WRANGLER_SEND_METRICS: 'false', CI: '1', NO_UPDATE_NOTIFIER: '1' };
  const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  // Bundle the Worker once into the work folder and run that copy: `wrangler dev` watches what it
  // runs, and a reload mid-run (someone rebuilding the repo) would drop miniflare's in-flight queue
  // messages — a test artefact, not something a deployed Worker does.
  const bundle = spawnSync(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', join(work, 'bundle')], { cwd: edgeDir, env: { ...process.env, ...wranglerEnv }, encoding: 'utf8' });
  if (bundle.status !== 0) throw new Error(`wrangler deploy --dry-run failed: ${bundle.stderr}${bundle.stdout}`);
  const config = JSON.parse(
    readFileSync(join(edgeDir, 'wrangler.jsonc'), 'utf8')
      .split('\n')
      .filter((line) => !/^\s*\/\//.test(line))
      .join('\n'),
  );
  delete config.$schema;
  config.main = join(work, 'bundle', 'index.js');
  config.no_bundle = true;
  config.rules = [{ type: 'ESModule', globs: ['**/*.js'] }];
  config.d1_databases = config.d1_databases.map((db) => ({ ...db, migrations_dir: join(edgeDir, db.migrations_dir) }));
  const configPath = join(work, 'wrangler.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const migrate = spawnSync(process.execPath, [wrangler, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist, '-c', configPath], {
    cwd: edgeDir,
    env: { ...process.env, ...wranglerEnv },
    encoding: 'utf8',
  });
  if (migrate.status !== 0) throw new Error(`wrangler d1 migrations apply failed: ${migrate.stderr}${migrate.stdout}`);
  const vars = {
    PUBLIC_URL: edgeUrl,
    UPLOAD_MODE: 'worker',
    URL_SIGNING_KEY: randomBytes(24).toString('base64url'),
    ADMIN_TOKEN: adminToken,
    WEBHOOK_SECRET: userSecret,
    WORKER_WEBHOOK_SECRET: workerSecret,
    GPU_BACKENDS: JSON.stringify(workers.map((w, i) => ({ type: 'da3-worker', name: `gpu${i}`, url: w.proxyUrl, token: w.token }))),
    POLL_INTERVAL_SECONDS: '1',
    ...options.vars,
  };
  const args = [wrangler, 'dev', '-c', configPath, '--local', '--ip', '127.0.0.1', '--port', String(edgePort), '--persist-to', persist, '--inspector-port', String(await freePort())];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const edge = spawnLogged(process.execPath, args, wranglerEnv, 'edge');
  await waitFor(`${edgeUrl}/healthz`, 120_000);

  return {
    edgeUrl,
    adminToken,
    userSecret,
    workers,
    work,
    /** Kills GPU worker `i` with SIGKILL and starts it again (same state folder and port). */
    async crashWorker(i) {
      const w = workers[i];
      w.child.kill('SIGKILL');
      await new Promise((ok) => (w.child.exitCode !== null ? ok() : w.child.once('exit', ok)));
      w.child = w.start();
      await waitFor(`http://127.0.0.1:${w.port}/readyz`, 120_000);
    },
    async stop() {
      for (const w of workers) {
        w.proxy.server.closeAllConnections();
        w.proxy.server.close();
      }
      for (const c of children) c.kill('SIGTERM');
      await new Promise((ok) => setTimeout(ok, 500));
      for (const c of children) c.kill('SIGKILL');
      edge.kill('SIGKILL');
      log.end();
      if (!options.keep) rmSync(work, { recursive: true, force: true });
    },
  };
}

/** An API key of the stack's edge (admin route). */
export async function createKey(stack, body = { name: 'e2e', ratePerMinute: 100000 }) {
  const r = await fetch(`${stack.edgeUrl}/v1/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`creating a key: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()).key;
}

/** Runs one job the way a client would: upload the images, submit, poll; returns the final job. */
export async function runJob(edgeUrl, key, pngs, { formats = 'glb-mini_npz', timeoutMs = 300_000, idempotencyKey } = {}) {
  const auth = { authorization: `Bearer ${key}` };
  const up = await fetch(`${edgeUrl}/v1/uploads`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ files: pngs.map((b, i) => ({ name: `${i}.png`, size: b.length, contentType: 'image/png' })) }) });
  if (!up.ok) throw new Error(`uploads: HTTP ${up.status} ${await up.text()}`);
  const { uploads } = await up.json();
  for (const [i, u] of uploads.entries()) {
    const put = await fetch(u.url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: pngs[i] });
    if (!put.ok) throw new Error(`upload PUT: HTTP ${put.status}`);
  }
  const started = Date.now();
  const headers = { ...auth, 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) };
  const sub = await fetch(`${edgeUrl}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ inputs: uploads.map((u) => ({ key: u.key, name: u.name })), options: { processRes: 84 }, formats }) });
  if (sub.status !== 202 && sub.status !== 200) throw new Error(`submit: HTTP ${sub.status} ${await sub.text()}`);
  const { id } = await sub.json();
  for (;;) {
    const r = await fetch(`${edgeUrl}/v1/jobs/${id}`, { headers: auth });
    const job = await r.json();
    if (['succeeded', 'failed', 'canceled'].includes(job.state)) return { job, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) return { job, ms: Date.now() - started, timedOut: true };
    await new Promise((ok) => setTimeout(ok, 250));
  }
}
