/**
 * One HTTP exchange with a backend: a timeout on every request, retries with exponential backoff
 * (honouring `Retry-After`) only where the request is safe to repeat, and typed errors.
 * @internal
 */
import { Da3ClientError } from './errors.js';

/** Options every call takes. */
export interface RequestOptions {
  /** Cancels the call (and its retries). */
  readonly signal?: AbortSignal;
  /** Time allowed for each HTTP request, in ms (default: the client's, 30 s). */
  readonly timeoutMs?: number;
}

/** Transport settings of a client. */
export interface TransportOptions {
  /** `fetch` to use (default the global one). */
  readonly fetch?: typeof fetch;
  /** Per-request timeout in ms (default 30 000). */
  readonly timeoutMs?: number;
  /** Extra tries after a retryable failure (default 3). */
  readonly retries?: number;
  /** First backoff delay in ms, doubled each time (default 500). */
  readonly retryDelayMs?: number;
}

/** What a request may do on failure. */
export type RetryMode =
  /** Repeatable (GET, DELETE, a POST with an idempotency key): network errors, 408/429/5xx. */
  | 'safe'
  /** Not repeatable: retried only when the server certainly did not act (429, connection refused). */
  | 'unsafe';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((ok, fail) => {
    if (signal?.aborted) return fail(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      ok();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      fail(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Seconds of a `Retry-After` header (number or HTTP date) as ms, capped at 10 minutes. */
export function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return Math.min(600, s) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.min(600_000, Math.max(0, at - Date.now())) : undefined;
}

async function errorBody(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => '');
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 2000);
  }
}

function describe(body: unknown): string {
  const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (e?.message) return `${e.code ? `${e.code}: ` : ''}${e.message}`;
  const detail = (body as { detail?: string } | undefined)?.detail;
  if (typeof detail === 'string') return detail;
  return typeof body === 'string' && body ? body.slice(0, 300) : '';
}

/** The transport of one backend. */
export class Transport {
  readonly fetchImpl: typeof fetch;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;

  constructor(
    readonly backend: string,
    options: TransportOptions = {},
  ) {
    this.fetchImpl = options.fetch ?? ((...a) => globalThis.fetch(...a));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  /**
   * Sends a request and returns the successful response (2xx; 3xx are followed by fetch), or
   * throws a {@link Da3ClientError}. `init` is called per attempt (bodies may be streams).
   */
  async request(url: string, init: () => RequestInit, mode: RetryMode, options: RequestOptions = {}): Promise<Response> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw this.aborted(url, options.signal.reason);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      let res: Response;
      let failure: Da3ClientError;
      try {
        res = await this.fetchImpl(url, { ...init(), signal, redirect: 'follow' });
      } catch (cause) {
        if (options.signal?.aborted) throw this.aborted(url, options.signal.reason);
        const code = (cause as { cause?: { code?: string } }).cause?.code;
        if (timeout.aborted) {
          failure = new Da3ClientError('IO', 'TIMEOUT', this.backend, `${url}: no answer within ${timeoutMs / 1000} s`, { cause });
        } else {
          failure = new Da3ClientError('IO', 'NETWORK', this.backend, `${url}: ${code ?? (cause as Error).message}`, { cause });
        }
        const notSent = code === 'ECONNREFUSED';
        if ((mode === 'safe' || notSent) && attempt < this.retries) {
          await this.backoff(attempt, undefined, options.signal);
          continue;
        }
        throw failure;
      }
      if (res.ok) return res;
      const body = await errorBody(res);
      const code = res.status === 401 || res.status === 403 ? 'UNAUTHORIZED' : res.status === 400 || res.status === 409 || res.status === 413 || res.status === 415 || res.status === 422 ? 'BAD_VALUE' : 'IO';
      failure = new Da3ClientError(code, 'HTTP', this.backend, `${url}: HTTP ${res.status}${describe(body) ? ` — ${describe(body)}` : ''}`, { status: res.status, body });
      const retryable = res.status === 429 || (mode === 'safe' && (res.status === 408 || res.status >= 500));
      if (!retryable || attempt >= this.retries) throw failure;
      await this.backoff(attempt, retryAfterMs(res.headers.get('retry-after')), options.signal);
    }
  }

  /** `request` + JSON body. */
  async json<T>(url: string, init: () => RequestInit, mode: RetryMode, options: RequestOptions = {}): Promise<T> {
    const res = await this.request(url, init, mode, options);
    try {
      return (await res.json()) as T;
    } catch (cause) {
      throw new Da3ClientError('IO', 'BAD_RESPONSE', this.backend, `${url}: the answer is not JSON`, { status: res.status, cause });
    }
  }

  private backoff(attempt: number, retryAfter: number | undefined, signal?: AbortSignal): Promise<void> {
    return sleep(retryAfter ?? this.retryDelayMs * 2 ** attempt, signal).catch((reason) => {
      throw this.aborted('', reason);
    });
  }

  aborted(url: string, reason: unknown): Da3ClientError {
    return new Da3ClientError('IO', 'ABORTED', this.backend, `${url ? `${url}: ` : ''}aborted`, { cause: reason });
  }

  /** Waits `ms` (polling), rejecting with ABORTED when `signal` fires. */
  pause(ms: number, signal?: AbortSignal): Promise<void> {
    return sleep(ms, signal).catch((reason) => {
      throw this.aborted('', reason);
    });
  }
}
