import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { findAppDir, resolveServedModel } from '../app/model.js';
import { appUrl, createAppServer } from '../app/server.js';
import { createGallery } from '../gallery/server.js';
import { allowedHostNames } from '../http/host.js';
import type { HubProgressEvent } from '../hub/resolve.js';
import { type DepthAnything3, defaultCacheDir } from '../model/depth-anything-3.js';
import { createInferenceService, serveInferenceService, untilStopSignal } from '../service/index.js';
import type { CliArgs } from './args.js';
import { loadCliModel } from './load-model.js';
import type { CliIo } from './main.js';

/** Stops accepting, ends idle keep-alive connections at once and busy ones after 2 s. */
function closeServer(server: Server): Promise<void> {
  return new Promise<void>((ok) => {
    server.close(() => ok());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  });
}

/**
 * `da3 app`: the built web app and the `--model-dir` model from one localhost origin (see
 * createAppServer). Checks the app folder first, then resolves the model (hub cache, a download,
 * or a folder), then listens; SIGTERM/SIGINT stop it (exit 0).
 */
async function appCommand(args: CliArgs, io: CliIo, progress?: (e: HubProgressEvent) => void): Promise<number> {
  const appDir = findAppDir(args.appDir);
  const model = await resolveServedModel(args.modelDir, { cacheDir: args.cacheDir, revision: args.revision, localFilesOnly: args.localFilesOnly, progress });
  const server = createAppServer({ appDir, model, host: args.host, allowedHosts: args.allowedHosts });
  await listen(server, args.port, args.host);
  const url = appUrl(serverUrl(server, args.host), model);
  io.stderr.write(`da3 app listening on ${url}\n  app: ${appDir}\n  model: ${model.repo} (commit ${model.commit.slice(0, 12)}) from ${dirname(model.files.get('model.safetensors')!.path)}\n`);
  if (args.open) openBrowser(url, io);
  await untilStopSignal();
  await closeServer(server);
  return 0;
}

/** Opens `url` in the desktop's browser (best effort: a warning when it cannot). */
function openBrowser(url: string, io: CliIo): void {
  const [command, ...rest] = process.platform === 'darwin' ? ['open'] : process.platform === 'win32' ? ['cmd', '/c', 'start', '""'] : ['xdg-open'];
  try {
    const child = spawn(command, [...rest, url], { stdio: 'ignore', detached: true });
    child.on('error', (e) => io.stderr.write(`da3: warning: could not open a browser (${e.message}); open ${url}\n`));
    child.unref();
  } catch (e) {
    io.stderr.write(`da3: warning: could not open a browser (${(e as Error).message}); open ${url}\n`);
  }
}

/** Listens on `host:port`; a port in use or a bad host rejects (one error line, exit 1). */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
}

/** `http://<host>:<port>` with the port actually bound (`--port 0` picks one); IPv6 hosts bracketed. */
export function serverUrl(server: Server, host: string): string {
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/** The token `da3 backend` uses: `--token`, else `$DA3_TOKEN`, else a new random one kept in `<stateDir>/token` (mode 600). */
async function backendToken(args: CliArgs, stateDir: string): Promise<{ token: string; source: string }> {
  if (args.token) return { token: args.token, source: '--token' };
  if (process.env.DA3_TOKEN) return { token: process.env.DA3_TOKEN, source: 'DA3_TOKEN' };
  const file = join(stateDir, 'token');
  try {
    const saved = (await readFile(file, 'utf8')).trim();
    if (saved.length >= 16) return { token: saved, source: file };
  } catch {
    // none yet
  }
  const token = randomBytes(24).toString('base64url');
  await mkdir(stateDir, { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return { token, source: file };
}

/** Runs `da3 backend` / `da3 gallery` until the process is stopped (SIGTERM/SIGINT: graceful). */
export async function serveCommand(args: CliArgs, io: CliIo, progress?: (e: HubProgressEvent) => void): Promise<number> {
  if (args.command === 'gallery') {
    // On a loopback address only localhost names are answered (DNS rebinding); on a wildcard
    // address (a LAN) any, unless --allowed-hosts names them.
    const wildcard = args.host === '0.0.0.0' || args.host === '::';
    const hosts = wildcard && !args.allowedHosts ? undefined : allowedHostNames(args.host, args.allowedHosts);
    const server = createGallery(args.input ?? args.exportDir, { hosts });
    await listen(server, args.port, args.host);
    io.stderr.write(`da3 gallery listening on ${serverUrl(server, args.host)}\n`);
    await untilStopSignal();
    await closeServer(server);
    return 0;
  }
  if (args.command === 'app') return appCommand(args, io, progress);
  const stateDir = resolve(args.stateDir ?? join(args.cacheDir ?? defaultCacheDir(), 'backend'));
  const { token, source } = await backendToken(args, stateDir);
  let model: DepthAnything3 | undefined;
  const loading = (async () => {
    model = await loadCliModel(args);
    return createInferenceService(model, {
      token,
      stateDir,
      host: args.host,
      maxQueue: args.maxQueue,
      allowedHosts: args.allowedHosts,
      allowedOrigins: args.allowedOrigins,
      webhookSecret: process.env.DA3_WEBHOOK_SECRET || undefined,
    });
  })();
  // The port opens at once (health checks answer); the API answers 503 until the model is loaded.
  const serving = await serveInferenceService(loading, { host: args.host, port: args.port });
  io.stderr.write(`da3 backend (job protocol v1) listening on ${serving.url} — token from ${source}; state in ${stateDir}; loading ${args.modelDir}…\n`);
  const stop = untilStopSignal();
  let outcome: 'ready' | NodeJS.Signals;
  try {
    outcome = await Promise.race([serving.ready.then(() => 'ready' as const), stop.then((signal) => signal)]);
  } catch (error) {
    await serving.close(0);
    throw error; // the model could not be loaded: one error line, exit 1
  }
  if (outcome === 'ready') io.stderr.write(`da3 backend: ready on ${model?.device?.device ?? 'cpu'}\n`);
  const signal = outcome === 'ready' ? await stop : outcome;
  io.stderr.write(`da3 backend: ${signal}, finishing the running job (queued jobs stay queued)\n`);
  await serving.close();
  await model?.dispose();
  return 0;
}
