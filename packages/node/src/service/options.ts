/**
 * Settings of the inference service (`da3 backend`, apps/gpu-worker): limits, security and
 * persistence. Every size is in bytes, every time in milliseconds.
 */

/** Options of {@link createInferenceService}. */
export interface ServiceOptions {
  /**
   * Bearer token every request except `/healthz` and `/readyz` must carry
   * (`Authorization: Bearer <token>`, compared in constant time). Required: a service without
   * one refuses to start.
   */
  readonly token: string;
  /** Folder for job records, inputs and kept result files (survives restarts). */
  readonly stateDir: string;
  /** Jobs waiting or running at most; more → 429 with `Retry-After` (default 16). */
  readonly maxQueue?: number;
  /** Largest request body (default 64 MiB). */
  readonly maxBodyBytes?: number;
  /** Largest input file fetched from a URL (default 256 MiB). */
  readonly maxInputBytes?: number;
  /** A server silent this long while sending an input or taking a result fails that transfer (default 30 s). */
  readonly networkTimeoutMs?: number;
  /**
   * Host names inputs, PUT targets and callbacks may point at (`example.com`, `*.r2.cloudflarestorage.com`,
   * `127.0.0.1:9000`). Unset: any host (a local service). Set: anything else → 400
   * `URL_NOT_ALLOWED` at submit time.
   */
  readonly allowedHosts?: readonly string[];
  /**
   * `Host` header values accepted (DNS-rebinding defence). Default: when bound to a loopback
   * address, `localhost`, `127.0.0.1` and `[::1]` with any port; otherwise any.
   */
  readonly allowedHostHeaders?: readonly string[];
  /** Browser origins allowed to call the API (CORS); requests with another `Origin` → 403. Default none. */
  readonly allowedOrigins?: readonly string[];
  /** `whsec_…` secret that signs job callbacks (Standard Webhooks). Without it, `callbackUrl` → 400. */
  readonly webhookSecret?: string;
  /** Callback delivery attempts (default 6, backoff 0.5 s × 2ⁿ). */
  readonly callbackAttempts?: number;
  /** PUT upload attempts per file (default 5, backoff 0.5 s × 2ⁿ). */
  readonly uploadAttempts?: number;
  /** First retry delay of uploads and callbacks (default 500; tests use less). */
  readonly retryDelayMs?: number;
  /** Finished jobs (and their kept files) are deleted after this long (default 1 h). */
  readonly jobTtlMs?: number;
  /** Finished jobs kept at most, oldest deleted first (default 1000). */
  readonly keepJobs?: number;
  /** The address the HTTP server binds to, for the Host check (default 127.0.0.1). */
  readonly host?: string;
}

/** {@link ServiceOptions} with every default filled in. */
export type ResolvedServiceOptions = Required<Omit<ServiceOptions, 'allowedHosts' | 'allowedHostHeaders' | 'webhookSecret'>> &
  Pick<ServiceOptions, 'allowedHosts' | 'allowedHostHeaders' | 'webhookSecret'>;

export function resolveServiceOptions(o: ServiceOptions): ResolvedServiceOptions {
  return {
    token: o.token,
    stateDir: o.stateDir,
    maxQueue: o.maxQueue ?? 16,
    maxBodyBytes: o.maxBodyBytes ?? 64 * 2 ** 20,
    maxInputBytes: o.maxInputBytes ?? 256 * 2 ** 20,
    networkTimeoutMs: o.networkTimeoutMs ?? 30_000,
    allowedHosts: o.allowedHosts,
    allowedHostHeaders: o.allowedHostHeaders,
    allowedOrigins: o.allowedOrigins ?? [],
    webhookSecret: o.webhookSecret,
    callbackAttempts: o.callbackAttempts ?? 6,
    uploadAttempts: o.uploadAttempts ?? 5,
    retryDelayMs: o.retryDelayMs ?? 500,
    jobTtlMs: o.jobTtlMs ?? 60 * 60_000,
    keepJobs: o.keepJobs ?? 1000,
    host: o.host ?? '127.0.0.1',
  };
}

/** True when `host:port` (or `host`) matches an allow-list entry (`name`, `name:port`, `*.suffix`). */
export function hostAllowed(url: URL, allowed: readonly string[] | undefined): boolean {
  if (!allowed) return true;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const withPort = url.port ? `${host}:${url.port}` : host;
  return allowed.some((entry) => {
    const e = entry.toLowerCase().replace(/^\[|\]$/g, '');
    if (e.startsWith('*.')) return host.endsWith(e.slice(1)) && host.length > e.length - 1;
    return e === host || e === withPort;
  });
}
