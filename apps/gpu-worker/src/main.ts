/**
 * apps/gpu-worker: the DA3 inference service as a process. Configured by the environment (see
 * ./config.ts and the README), it opens its port at once (`/healthz` answers, `/readyz` is 503 while
 * loading), loads the model (downloading and converting it into `DA3_CACHE` the first time), warms
 * it up with one small inference so the device is chosen before the first job (CUDA when its
 * provider loads, else CPU — the reason is logged), and serves the job protocol v1 until SIGTERM,
 * when it lets the running job finish (`DA3_GRACE_MS`) and exits 0. Logs are JSON lines on stderr.
 */
import { DepthAnything3, type InferenceService, createInferenceService, serveInferenceService, untilStopSignal } from '@da3js/node';
import { ConfigError, type WorkerConfig, readConfig } from './config.js';

function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

/** Seconds the model took to load and warm up (set when it is ready). */
let loadSeconds = 0;

async function load(config: WorkerConfig, loaded: (model: DepthAnything3) => void): Promise<InferenceService> {
  const started = Date.now();
  let lastStatus = '';
  const model = await DepthAnything3.fromPretrained(config.model, {
    device: config.device,
    dtype: config.dtype,
    cacheDir: config.cacheDir,
    localFilesOnly: config.localFilesOnly,
    progress: (e) => {
      if (e.status === 'warning') log('warn', (e as { message: string }).message);
      else if ((e.status === 'download' || e.status === 'done' || e.status === 'ready') && e.status !== lastStatus) log('info', `model ${e.status}`, { file: 'file' in e ? e.file : undefined });
      lastStatus = e.status;
    },
  });
  loaded(model);
  // Warm-up: converts the graph (once per cache) and opens the session, so the device is known
  // and the first job pays for neither.
  const grey = { data: new Uint8Array(56 * 56 * 3).fill(128), width: 56, height: 56, channels: 3 as const };
  await model.inference(grey, { processRes: 56 });
  loadSeconds = (Date.now() - started) / 1000;
  return createInferenceService(model, {
    token: config.token,
    stateDir: config.stateDir,
    host: config.host,
    maxQueue: config.maxQueue,
    maxBodyBytes: config.maxBodyBytes,
    allowedHosts: config.allowedHosts,
    allowedOrigins: config.allowedOrigins,
    allowedHostHeaders: config.allowedHostHeaders,
    webhookSecret: config.webhookSecret,
  });
}

async function main(): Promise<number> {
  let config: WorkerConfig;
  try {
    config = readConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      log('error', error.message);
      return 2;
    }
    throw error;
  }
  let model: DepthAnything3 | undefined;
  const serving = await serveInferenceService(
    load(config, (m) => {
      model = m;
    }),
    { host: config.host, port: config.port },
  );
  log('info', 'listening', { url: serving.url, protocolVersion: 1 });
  const stop = untilStopSignal();
  const first = await Promise.race([serving.ready.then(() => 'ready' as const, (error: Error) => error), stop]);
  if (first instanceof Error) {
    log('error', `the model could not be loaded: ${first.message}`, { code: (first as { code?: string }).code });
    await serving.close(0);
    return 1;
  }
  if (first === 'ready') {
    // Logged once /readyz answers 200 (the service is in place), so a watcher of the log can rely on it.
    const device = model?.device;
    log(device?.device === 'cuda' ? 'info' : 'warn', `model ready on ${device?.device ?? 'cpu'}`, {
      model: config.model,
      kind: model?.kind,
      seconds: loadSeconds,
      ...(device?.fallbackReason ? { cudaNotUsed: device.fallbackReason } : {}),
    });
  }
  const signal = first === 'ready' ? await stop : first;
  log('info', `${signal}: draining`, { graceMs: config.graceMs });
  await serving.close(config.graceMs);
  await model?.dispose();
  log('info', 'stopped');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log('error', (error as Error).stack ?? String(error));
    process.exit(1);
  },
);
