/**
 * The GPU worker's settings, from the environment (twelve-factor style, so a container, Modal or
 * systemd unit configures it the same way). Every value is checked; a bad one stops the worker
 * with a message naming the variable.
 */

/** What the worker runs with. */
export interface WorkerConfig {
  /** Model: hub id, folder or file (`DA3_MODEL`, default `depth-anything/DA3-SMALL`). */
  readonly model: string;
  /** `DA3_DEVICE`: auto (CUDA when it loads, else CPU) | cuda | cpu. */
  readonly device: 'auto' | 'cuda' | 'cpu';
  /** `DA3_DTYPE`: fp32 | fp16. */
  readonly dtype: 'fp32' | 'fp16';
  /** `DA3_TOKEN`: the bearer token clients send (16+ characters; required). */
  readonly token: string;
  /** `DA3_CACHE`: model downloads and converted graphs (default /data/cache). */
  readonly cacheDir: string;
  /** `DA3_STATE_DIR`: job records and kept results (default /data/state). */
  readonly stateDir: string;
  /** `HOST` (default 127.0.0.1; containers set 0.0.0.0) and `PORT` (default 8008). */
  readonly host: string;
  readonly port: number;
  /** `DA3_MAX_QUEUE` (default 16). */
  readonly maxQueue: number;
  /** `DA3_MAX_BODY_BYTES` (default 64 MiB). */
  readonly maxBodyBytes: number;
  /** `DA3_ALLOWED_HOSTS`: comma-separated hosts inputs/outputs/callbacks may use (unset: any). */
  readonly allowedHosts?: string[];
  /** `DA3_ALLOWED_ORIGINS`: comma-separated browser origins. */
  readonly allowedOrigins?: string[];
  /** `DA3_ALLOWED_HOST_HEADERS`: Host header values accepted behind a proxy (unset: any when not on loopback). */
  readonly allowedHostHeaders?: string[];
  /** `DA3_WEBHOOK_SECRET`: `whsec_…` that signs callbacks. */
  readonly webhookSecret?: string;
  /** `DA3_GRACE_MS`: how long SIGTERM lets the running job finish (default 120 000). */
  readonly graceMs: number;
  /** `HF_HUB_OFFLINE`/`DA3_LOCAL_FILES_ONLY`: never download. */
  readonly localFilesOnly: boolean;
}

/** A configuration error naming the variable. */
export class ConfigError extends Error {
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const list = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

function int(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return n;
}

function oneOf<T extends string>(env: Record<string, string | undefined>, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw as T)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/**
 * Reads the configuration.
 * @throws {ConfigError} naming the first bad variable
 */
export function readConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const token = env.DA3_TOKEN ?? '';
  if (token.length < 16) throw new ConfigError('DA3_TOKEN', 'a bearer token of at least 16 characters is required (e.g. openssl rand -base64 24)');
  const secret = env.DA3_WEBHOOK_SECRET || undefined;
  if (secret !== undefined && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) throw new ConfigError('DA3_WEBHOOK_SECRET', 'must be "whsec_" followed by base64');
  return {
    model: env.DA3_MODEL || 'depth-anything/DA3-SMALL',
    device: oneOf(env, 'DA3_DEVICE', ['auto', 'cuda', 'cpu'] as const, 'auto'),
    dtype: oneOf(env, 'DA3_DTYPE', ['fp32', 'fp16'] as const, 'fp32'),
    token,
    cacheDir: env.DA3_CACHE || '/data/cache',
    stateDir: env.DA3_STATE_DIR || '/data/state',
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 8008, 0, 65535),
    maxQueue: int(env, 'DA3_MAX_QUEUE', 16, 1, 100_000),
    maxBodyBytes: int(env, 'DA3_MAX_BODY_BYTES', 64 * 2 ** 20, 1024, 2 ** 31),
    allowedHosts: list(env.DA3_ALLOWED_HOSTS),
    allowedOrigins: list(env.DA3_ALLOWED_ORIGINS),
    allowedHostHeaders: list(env.DA3_ALLOWED_HOST_HEADERS),
    webhookSecret: secret,
    graceMs: int(env, 'DA3_GRACE_MS', 120_000, 0, 3_600_000),
    localFilesOnly: /^(1|true|yes|on)$/i.test(env.DA3_LOCAL_FILES_ONLY ?? env.HF_HUB_OFFLINE ?? ''),
  };
}
