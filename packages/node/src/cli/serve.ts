import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createGallery } from '../gallery/server.js';
import { DepthAnything3, defaultCacheDir } from '../model/depth-anything-3.js';
import { createInferenceService, serveInferenceService, untilStopSignal } from '../service/index.js';
import type { CliArgs } from './args.js';
import type { CliIo } from './main.js';

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
export async function serveCommand(args: CliArgs, io: CliIo): Promise<number> {
  if (args.command === 'gallery') {
    const server = createGallery(args.input ?? args.exportDir);
    await listen(server, args.port, args.host);
    io.stderr.write(`da3 gallery listening on ${serverUrl(server, args.host)}\n`);
    await untilStopSignal();
    await new Promise<void>((ok) => server.close(() => ok()));
    return 0;
  }
  const stateDir = resolve(args.stateDir ?? join(args.cacheDir ?? defaultCacheDir(), 'backend'));
  const { token, source } = await backendToken(args, stateDir);
  let model: DepthAnything3 | undefined;
  const loading = (async () => {
    model = await DepthAnything3.fromPretrained(args.modelDir, { device: args.device, dtype: args.dtype, cacheDir: args.cacheDir, revision: args.revision, localFilesOnly: args.localFilesOnly, strict: args.strict });
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
