/**
 * Job callbacks signed with the Standard Webhooks scheme (https://www.standardwebhooks.com):
 * headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>`), the key being the base64 part
 * of a `whsec_…` secret. Signing and verification use the specification's own reference library
 * (`standardwebhooks`, pure JavaScript: Node, browsers and Workers alike).
 */
import { Webhook } from 'standardwebhooks';
import { Da3Error } from '../errors.js';

/** Anything with a Fetch-style `get(name)` (a `Headers` object). */
export interface HeaderLookup {
  get(name: string): string | null;
}

/** The three headers a signed webhook carries. */
export interface WebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** A new random `whsec_…` secret (24 random bytes), for a receiver to share with a sender. */
export function generateWebhookSecret(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `whsec_${btoa(binary)}`;
}

function webhookFor(secret: string, where: string): Webhook {
  if (typeof secret !== 'string' || !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
    throw new Da3Error('BAD_VALUE', `${where}: the secret must be "whsec_" followed by base64 (generateWebhookSecret makes one)`);
  }
  return new Webhook(secret);
}

/**
 * The headers that sign `body` (the exact bytes that will be sent).
 * @param id unique per message and kept across retries of it (receivers de-duplicate by it)
 * @param timestamp when this attempt is sent (default now)
 * @throws {Da3Error} `BAD_VALUE` for a malformed secret
 */
export function signWebhook(secret: string, id: string, body: string, timestamp: Date = new Date()): WebhookHeaders {
  const signature = webhookFor(secret, 'signWebhook').sign(id, timestamp, body);
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature };
}

/**
 * Checks a received webhook: one of the `v1` signatures must match `body` (the raw bytes, before
 * any JSON parsing) and the timestamp must be within 5 minutes of now (replays are refused).
 * Header names are matched case-insensitively; `headers` may be a `Headers` object or a plain record.
 * @returns the parsed JSON body
 * @throws {Da3Error} `UNAUTHORIZED` (missing headers, bad signature, stale or future
 *   timestamp) or `BAD_VALUE` (malformed secret)
 */
export function verifyWebhook(secret: string, headers: HeaderLookup | Readonly<Record<string, string | string[] | undefined>>, body: string): unknown {
  const get = (name: string): string | undefined => {
    if (typeof (headers as HeaderLookup).get === 'function') return (headers as HeaderLookup).get(name) ?? undefined;
    for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
      if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
    }
    return undefined;
  };
  const id = get('webhook-id');
  const timestamp = get('webhook-timestamp');
  const signature = get('webhook-signature');
  if (!id || !timestamp || !signature) throw new Da3Error('UNAUTHORIZED', 'verifyWebhook: the webhook-id, webhook-timestamp and webhook-signature headers are required');
  const hook = webhookFor(secret, 'verifyWebhook');
  try {
    return hook.verify(body, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature });
  } catch (cause) {
    throw new Da3Error('UNAUTHORIZED', `verifyWebhook: ${(cause as Error).message}`, { cause });
  }
}
