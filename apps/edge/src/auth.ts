/**
 * API keys (stored as sha256 hashes in D1, scoped, revocable) and per-key rate limits (fixed
 * one-minute windows counted atomically in D1).
 */
import type { Env } from './env.js';
import { sameString, sha256Hex } from './signing.js';

/** What a request is allowed to do. */
export type Scope = 'jobs:write' | 'jobs:read' | 'uploads:write';

/** An authenticated caller. */
export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly ratePerMinute: number;
}

/** Why a request was refused (mapped to 401/403/429 by the app). */
export type AuthRefusal = { readonly status: 401 | 403 | 429; readonly code: string; readonly message: string; readonly retryAfter?: number };

function bearer(header: string | undefined): string | undefined {
  return /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '')?.[1];
}

/** The caller of a request, or why not: unknown or revoked key (401), missing scope (403). */
export async function authenticate(env: Env, header: string | undefined, scope: Scope): Promise<ApiKey | AuthRefusal> {
  const token = bearer(header);
  if (!token) return { status: 401, code: 'UNAUTHORIZED', message: 'an API key is required: "Authorization: Bearer da3_…"' };
  const row = await env.DB.prepare('SELECT id, name, scopes, rate_per_minute, revoked_at FROM api_keys WHERE key_hash = ?')
    .bind(await sha256Hex(token))
    .first<{ id: string; name: string; scopes: string; rate_per_minute: number; revoked_at: number | null }>();
  if (!row || row.revoked_at !== null) return { status: 401, code: 'UNAUTHORIZED', message: row ? 'this API key was revoked' : 'unknown API key' };
  const scopes = row.scopes.split(' ').filter(Boolean) as Scope[];
  if (!scopes.includes(scope)) return { status: 403, code: 'FORBIDDEN', message: `this API key lacks the ${scope} scope` };
  return { id: row.id, name: row.name, scopes, ratePerMinute: row.rate_per_minute };
}

/** Counts one request of `key` in the current minute; refuses (429 + Retry-After) over its limit. */
export async function rateLimit(env: Env, key: ApiKey, now = Date.now()): Promise<AuthRefusal | undefined> {
  const window = Math.floor(now / 60_000);
  const row = await env.DB.prepare(
    'INSERT INTO rate_windows (key_id, window, count) VALUES (?, ?, 1) ON CONFLICT (key_id, window) DO UPDATE SET count = count + 1 RETURNING count',
  )
    .bind(key.id, window)
    .first<{ count: number }>();
  if ((row?.count ?? 0) > key.ratePerMinute) {
    return { status: 429, code: 'RATE_LIMITED', message: `over ${key.ratePerMinute} requests per minute for this key`, retryAfter: Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000)) };
  }
  // Old windows are cleared now and then (cheap, no scheduler needed).
  if (Math.random() < 0.01) await env.DB.prepare('DELETE FROM rate_windows WHERE window < ?').bind(window - 1).run();
  return undefined;
}

/** True when `header` carries the admin token (constant-time). */
export function isAdmin(env: Env, header: string | undefined): boolean {
  const token = bearer(header);
  return !!env.ADMIN_TOKEN && env.ADMIN_TOKEN.length >= 16 && !!token && sameString(token, env.ADMIN_TOKEN);
}

function randomToken(bytes: number): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Creates a key; the secret is returned once and only its hash is kept. */
export async function createApiKey(env: Env, name: string, scopes: readonly Scope[], ratePerMinute: number): Promise<{ id: string; key: string }> {
  const id = `key_${randomToken(9)}`;
  const key = `da3_${randomToken(24)}`;
  await env.DB.prepare('INSERT INTO api_keys (id, key_hash, name, scopes, rate_per_minute, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(id, await sha256Hex(key), name, scopes.join(' '), ratePerMinute, Date.now())
    .run();
  return { id, key };
}

/** Revokes a key; false when there is no such (unrevoked) key. */
export async function revokeApiKey(env: Env, id: string): Promise<boolean> {
  const r = await env.DB.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').bind(Date.now(), id).run();
  return (r.meta.changes ?? 0) > 0;
}
