/**
 * Short-lived URLs to objects of the R2 bucket, so large uploads and results never pass through
 * the API's request bodies:
 * - `s3` mode: presigned S3 URLs of R2's S3-compatible endpoint (SigV4 query signing, aws4fetch);
 * - `worker` mode (local development, tests, no S3 credentials): URLs of this Worker's own
 *   `/v1/blobs/<key>` route, signed with HMAC-SHA256 over method, key and expiry.
 */
import { AwsClient } from 'aws4fetch';
import type { Env, Settings } from './env.js';

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message)));
  return Array.from(sig, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Constant-time comparison of two strings (same length required). */
export function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** An object key as a URL path (each segment encoded). */
export function keyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** True for keys the API ever hands out: `in/…` or `out/…`, no empty, `.` or `..` segments. */
export function isSafeKey(key: string): boolean {
  const parts = key.split('/');
  return (parts[0] === 'in' || parts[0] === 'out') && parts.length >= 3 && key.length <= 1024 && parts.every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\') && ![...p].some((ch) => ch.charCodeAt(0) < 0x20));
}

/**
 * A URL that lets its holder `method` (GET or PUT) one object for `ttlSeconds`.
 * @throws when the mode's secrets are missing (a deployment error)
 */
export async function signedObjectUrl(env: Env, s: Settings, method: 'GET' | 'PUT', key: string, ttlSeconds: number): Promise<string> {
  if (s.uploadMode === 's3') {
    if (!env.S3_ENDPOINT || !env.S3_ACCESS_KEY_ID || !env.S3_SECRET_ACCESS_KEY) throw new Error('UPLOAD_MODE=s3 needs S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
    const client = new AwsClient({ accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY, service: 's3', region: 'auto' });
    const url = new URL(`${env.S3_ENDPOINT.replace(/\/+$/, '')}/${env.S3_BUCKET ?? 'da3-data'}/${keyPath(key)}`);
    url.searchParams.set('X-Amz-Expires', String(ttlSeconds));
    const signed = await client.sign(new Request(url, { method }), { aws: { signQuery: true } });
    return signed.url;
  }
  if (!env.URL_SIGNING_KEY) throw new Error('UPLOAD_MODE=worker needs the URL_SIGNING_KEY secret');
  const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
  const sig = await hmacHex(env.URL_SIGNING_KEY, `${method}\n${key}\n${expires}`);
  return `${s.publicUrl}/v1/blobs/${keyPath(key)}?expires=${expires}&signature=${sig}`;
}

/** Checks a worker-signed blob URL (the `/v1/blobs/<key>` route): true when valid and unexpired. */
export async function verifyBlobSignature(env: Env, method: string, key: string, expires: string | null, signature: string | null): Promise<boolean> {
  if (!env.URL_SIGNING_KEY || !expires || !signature || !/^\d{1,12}$/.test(expires)) return false;
  if (Number(expires) < Date.now() / 1000) return false;
  return sameString(await hmacHex(env.URL_SIGNING_KEY, `${method}\n${key}\n${expires}`), signature);
}

/** sha256 (hex) of a string — API keys are stored hashed. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
