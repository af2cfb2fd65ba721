/**
 * The GPU backends the edge dispatches to (`GPU_BACKENDS`), as `@da3js/client` clients, and the
 * health-based choice among them: ready ones first, the shortest queue first.
 */
import { type Da3Client, da3Worker, modal, replicate } from '@da3js/client';
import type { BackendConfig } from './env.js';

/** A backend with its client. */
export interface Backend {
  readonly index: number;
  readonly name: string;
  readonly config: BackendConfig;
  readonly client: Da3Client;
}

/** Clients per backend list (by index), built once per isolate. */
const clients = new Map<string, Da3Client>();

export function backendAt(configs: readonly BackendConfig[], index: number, timeoutMs = 20_000): Backend | undefined {
  const config = configs[index];
  if (!config) return undefined;
  const cacheKey = `${index}:${timeoutMs}:${JSON.stringify(config)}`;
  let client = clients.get(cacheKey);
  if (!client) {
    const transport = { timeoutMs, retries: 1, retryDelayMs: 200 };
    client =
      config.type === 'da3-worker'
        ? da3Worker({ url: config.url, token: config.token, ...transport })
        : config.type === 'modal'
          ? modal({ url: config.url, tokenId: config.tokenId, tokenSecret: config.tokenSecret, token: config.token, ...transport })
          : replicate({ token: config.token, version: config.version, baseUrl: config.baseUrl, ...transport });
    clients.set(cacheKey, client);
  }
  return { index, name: config.name ?? `${config.type}#${index}`, config, client };
}

interface Health {
  readonly ready: boolean;
  readonly queueDepth: number;
  readonly at: number;
}

const health = new Map<string, Health>();
const HEALTH_TTL_MS = 5_000;

/**
 * The backend to send a job to: among those answering ready (checked at most every 5 s), the one
 * with the shortest queue, ties broken by `salt` (spreading jobs across equal workers). Undefined
 * when none is ready.
 */
export async function chooseBackend(configs: readonly BackendConfig[], salt: number, timeoutMs = 20_000, now = Date.now()): Promise<Backend | undefined> {
  const all = configs.map((_, i) => backendAt(configs, i, timeoutMs)!);
  const states = await Promise.all(
    all.map(async (b) => {
      const key = `${b.index}:${b.name}`;
      const cached = health.get(key);
      if (cached && now - cached.at < HEALTH_TTL_MS) return cached;
      const h = await b.client.health({ timeoutMs: 3000 });
      const fresh = { ready: h.ready, queueDepth: h.queueDepth ?? 0, at: now };
      health.set(key, fresh);
      return fresh;
    }),
  );
  const ready = all.map((b, i) => ({ b, h: states[i] })).filter((x) => x.h.ready);
  if (ready.length === 0) return undefined;
  ready.sort((x, y) => x.h.queueDepth - y.h.queueDepth || ((x.b.index + salt) % all.length) - ((y.b.index + salt) % all.length));
  return ready[0].b;
}

/** Marks a backend unhealthy until its next check (after a failed submit). */
export function markUnhealthy(backend: Backend): void {
  health.set(`${backend.index}:${backend.name}`, { ready: false, queueDepth: 0, at: Date.now() });
}
