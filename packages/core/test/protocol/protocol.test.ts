import { createHmac } from 'node:crypto';
import { isDa3Error } from '@da3js/core';
import { JobRequestSchema, JobSchema, generateWebhookSecret, isTerminalJobState, parseJobRequest, signWebhook, verifyWebhook } from '@da3js/core/protocol';
import { describe, expect, it } from 'vitest';

describe('job protocol v1: requests', () => {
  it('accepts URL and inline inputs with every inference option, formats and a PUT target', () => {
    const r = parseJobRequest({
      inputs: [{ url: 'https://bucket.example/a.png?X-Amz-Signature=abc' }, { data: 'iVBORw0KGgo=', name: 'b.png' }],
      options: { processRes: 504, processResMethod: 'upper_bound_resize', refViewStrategy: 'first', useRayPose: true, exportFeatLayers: [3], video: { fps: 2 } },
      formats: 'glb-mini_npz',
      exportOptions: { confThreshPercentile: 10, numMaxPoints: 1000 },
      output: { type: 'put', urls: { 'scene.glb': 'https://b.example/scene.glb?sig=1', 'depth_vis/0000.jpg': 'https://b.example/d0?sig=2' } },
      callbackUrl: 'http://127.0.0.1:9000/hook',
      idempotencyKey: 'k-1',
      metadata: { user: '42' },
    });
    expect(r.ok).toBe(true);
  });

  it('names every problem: unknown fields, wrong types, unbounded numbers, path tricks, non-http URLs', () => {
    const cases: [unknown, RegExp][] = [
      [null, /\(body\)/],
      [{}, /inputs/],
      [{ inputs: [] }, /inputs: Too small/],
      [{ inputs: [{ url: 'file:///etc/passwd' }] }, /inputs\.0/],
      [{ inputs: [{ url: 'https://x/a.png', extra: 1 }] }, /inputs\.0/],
      [{ inputs: [{ data: 'not base64!' }] }, /inputs\.0/],
      [{ inputs: [{ url: 'https://x/a.png' }], options: { processRes: 100_000 } }, /options\.processRes/],
      [{ inputs: [{ url: 'https://x/a.png' }], options: { refViewStrategy: 'best' } }, /options\.refViewStrategy/],
      [{ inputs: [{ url: 'https://x/a.png' }], options: { extrinsics: [1, Number.NaN] } }, /options\.extrinsics\.1/],
      [{ inputs: [{ url: 'https://x/a.png' }], surprise: true }, /Unrecognized key/],
      [{ inputs: [{ url: 'https://x/a.png' }], output: { type: 'put', urls: { '../escape.glb': 'https://x/u' } } }, /output\.urls/],
      [{ inputs: [{ url: 'https://x/a.png' }], output: { type: 'put', urls: { '/abs.glb': 'https://x/u' } } }, /output\.urls/],
      [{ inputs: [{ url: 'https://x/a.png' }], output: { type: 'ftp' } }, /output/],
      [{ inputs: [{ url: 'https://x/a.png' }], callbackUrl: 'javascript:alert(1)' }, /callbackUrl/],
    ];
    for (const [body, message] of cases) {
      const r = parseJobRequest(body);
      expect(r.ok, JSON.stringify(body)).toBe(false);
      if (!r.ok) expect(r.issues.map((i) => `${i.path}: ${i.message}`).join('; '), JSON.stringify(body)).toMatch(message);
    }
  });

  it('the schemas export as JSON Schema (for the docs and non-TS clients)', async () => {
    const { z } = await import('zod');
    const schema = z.toJSONSchema(JobRequestSchema) as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toEqual(['inputs']);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['inputs', 'options', 'formats', 'output', 'callbackUrl', 'idempotencyKey']));
    expect(z.toJSONSchema(JobSchema)).toMatchObject({ type: 'object' });
    expect(isTerminalJobState('succeeded') && isTerminalJobState('canceled') && !isTerminalJobState('running')).toBe(true);
  });
});

describe('Standard Webhooks signing', () => {
  const secret = generateWebhookSecret();
  const body = JSON.stringify({ type: 'job.succeeded', timestamp: '2026-12-05T00:00:00Z', data: { id: 'j1' } });

  it('signs as the specification says: v1,base64(HMAC-SHA256(key, id.timestamp.body)) — checked with node:crypto', () => {
    const at = new Date(1_765_000_000_000);
    const h = signWebhook(secret, 'msg_1', body, at);
    expect(h['webhook-id']).toBe('msg_1');
    expect(h['webhook-timestamp']).toBe('1765000000');
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`msg_1.1765000000.${body}`).digest('base64');
    expect(h['webhook-signature']).toBe(`v1,${expected}`);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  });

  it('verifies a fresh signature (Headers or a plain record, any header case) and returns the parsed body', () => {
    const h = signWebhook(secret, 'msg_2', body);
    expect(verifyWebhook(secret, new Headers(h as unknown as Record<string, string>), body)).toMatchObject({ data: { id: 'j1' } });
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(secret, upper, body)).toMatchObject({ type: 'job.succeeded' });
  });

  it('refuses forged, tampered, replayed (stale), future and unsigned webhooks with UNAUTHORIZED', () => {
    const h = signWebhook(secret, 'msg_3', body);
    const refuse = (headers: Record<string, string>, b = body, s = secret) => {
      let err: unknown;
      try {
        verifyWebhook(s, headers, b);
      } catch (e) {
        err = e;
      }
      expect(isDa3Error(err, 'UNAUTHORIZED'), String(err)).toBe(true);
    };
    refuse({ ...h }, `${body} `); // tampered body
    refuse({ ...h }, body, generateWebhookSecret()); // another key
    refuse({ ...h, 'webhook-signature': 'v1,AAAA' }); // forged
    refuse({ ...h, 'webhook-id': 'msg_other' }); // id swapped
    refuse(signWebhook(secret, 'msg_4', body, new Date(Date.now() - 10 * 60_000)) as unknown as Record<string, string>); // replayed later
    refuse(signWebhook(secret, 'msg_5', body, new Date(Date.now() + 10 * 60_000)) as unknown as Record<string, string>); // from the future
    refuse({ 'webhook-id': 'x', 'webhook-timestamp': h['webhook-timestamp'] }); // no signature
    expect(() => signWebhook('not-a-secret', 'x', body)).toThrowError(expect.objectContaining({ code: 'BAD_VALUE' }));
  });
});

describe('docs/job-protocol.schema.json', () => {
  it('is what the schemas generate (regenerate with node scripts/gen-protocol-schema.mjs)', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { REPO_ROOT } = await import('../helpers/fixtures.js');
    const { protocolSchemas } = await import(join(REPO_ROOT, 'scripts/gen-protocol-schema.mjs'));
    const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'docs/job-protocol.schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(protocolSchemas())));
  });
});
