/**
 * The service's outgoing HTTP: result uploads to presigned PUT URLs and signed job callbacks, each
 * with a stall timeout and retries with exponential backoff (only where a retry can help: network
 * errors, timeouts, 408/429/5xx).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Da3Error } from '@da3js/core';
import { signWebhook } from '@da3js/core/protocol';
import { StallTimer, withStall } from '../net/stall-timer.js';

/** Retry settings of one transfer. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly firstDelayMs: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

const retryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      ok();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** What one attempt gave: done, or why it failed and whether to try again. */
type Attempt = { ok: true } | { ok: false; retry: boolean; why: string };

/** URL without its query (presigned signatures stay out of messages and manifests). */
export function withoutQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

async function withRetries(what: string, policy: RetryPolicy, attempt: () => Promise<Attempt>): Promise<number> {
  let last = '';
  for (let n = 1; n <= policy.attempts; n++) {
    policy.signal?.throwIfAborted();
    const r = await attempt();
    if (r.ok) return n;
    last = r.why;
    if (!r.retry) break;
    if (n < policy.attempts) await sleep(policy.firstDelayMs * 2 ** (n - 1), policy.signal);
  }
  throw new Da3Error('IO', `${what} failed after ${policy.attempts > 1 ? 'retries' : 'one attempt'}: ${last}`);
}

/** One request with a stall timeout: the answer's status, or a retryable failure. */
async function send(url: string, init: () => RequestInit, policy: RetryPolicy): Promise<Attempt & { status?: number }> {
  const stall = new StallTimer(policy.timeoutMs);
  stall.arm();
  try {
    const res = await fetch(url, { ...init(), signal: withStall(stall, policy.signal) });
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) return { ok: true };
    return { ok: false, retry: retryableStatus(res.status), why: `HTTP ${res.status}`, status: res.status };
  } catch (e) {
    if (policy.signal?.aborted) throw policy.signal.reason;
    const cause = (e as { cause?: { code?: string } }).cause;
    return { ok: false, retry: true, why: stall.fired ? `no answer within ${policy.timeoutMs / 1000} s` : (cause?.code ?? (e as Error).message) };
  } finally {
    stall.disarm();
  }
}

/**
 * PUTs a file to a (presigned) URL, streaming it from disk, with `Content-Length` and the given
 * headers; retried per `policy`.
 * @returns the number of attempts it took
 * @throws {Da3Error} `IO` naming the URL (without its query) and the last failure
 */
export async function putFile(url: string, path: string, contentType: string, headers: Readonly<Record<string, string>>, policy: RetryPolicy): Promise<number> {
  const size = (await stat(path)).size;
  return withRetries(`upload to ${withoutQuery(url)}`, policy, () =>
    send(
      url,
      () => ({
        method: 'PUT',
        headers: { 'content-type': contentType, 'content-length': String(size), ...headers },
        body: Readable.toWeb(createReadStream(path)) as ReadableStream,
        duplex: 'half',
      }),
      policy,
    ),
  );
}

/**
 * POSTs a JSON body signed with the Standard Webhooks scheme. The message id stays the same across
 * attempts (receivers de-duplicate by it); each attempt is signed with its own timestamp.
 * @returns the number of attempts it took
 * @throws {Da3Error} `IO` after the last failed attempt
 */
export async function deliverCallback(url: string, messageId: string, body: string, secret: string, policy: RetryPolicy): Promise<number> {
  return withRetries(`callback to ${withoutQuery(url)}`, policy, () =>
    send(url, () => ({ method: 'POST', headers: { 'content-type': 'application/json', ...signWebhook(secret, messageId, body) }, body }), policy),
  );
}
