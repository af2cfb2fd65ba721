/**
 * The whole stack on loopback, as a user runs it: `wrangler dev` (local mode: R2, Durable Objects,
 * Queues, D1 from miniflare) + two apps/gpu-worker processes with the tiny fixture model + a client
 * that uploads photos through presigned URLs, submits jobs, polls them and downloads the results.
 * The GLB passes gltf-validator and the npz loads in NumPy, as in the exporters' tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWebhook } from '@da3js/core/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-utils/fixtures.js';
import { requireTool } from '../../../test-utils/tools.js';
// @ts-expect-error: plain ESM script without types
import { createKey, runJob, startStack } from '../scripts/stack.mjs';

type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let key: string;
const work = mkdtempSync(join(tmpdir(), 'da3js-edge-e2e-'));
const pngs = [0, 1, 2].map((i) => readFileSync(join(REPO_ROOT, 'examples', 'scene', `view${i}.png`)));

beforeAll(async () => {
  stack = await startStack();
  key = await createKey(stack);
});
afterAll(async () => {
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('edge API end to end (wrangler dev + GPU workers)', () => {
  it('upload → job → GLB/npz in R2 → download; the files pass gltf-validator and NumPy', async (ctx) => {
    const { job } = await runJob(stack.edgeUrl, key, pngs, { formats: 'glb-mini_npz' });
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.attempt).toBe(1);
    const get = async (name: string) => {
      const file = job.result.files.find((f: { name: string }) => f.name === name);
      const res = await fetch(`${stack.edgeUrl}${file.url}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(bytes.length).toBe(file.size);
      return bytes;
    };
    const { default: validator } = await import('gltf-validator');
    const report = await validator.validateBytes(await get('scene.glb'));
    expect(report.issues.numErrors).toBe(0);
    expect(report.issues.numWarnings).toBe(0);
    const npz = join(work, 'results.npz');
    writeFileSync(npz, await get('exports/mini_npz/results.npz'));
    const py = spawnSync('/usr/bin/python3', ['-c', 'import numpy as np, sys, json; z = np.load(sys.argv[1]); print(json.dumps({k: list(z[k].shape) for k in z.files}))', npz], { encoding: 'utf8' });
    if (!requireTool(ctx, py.status === 0 || !/No module named|No such file/.test(py.stderr), 'NumPy (/usr/bin/python3 with python3-numpy)')) return;
    expect(py.status, py.stderr).toBe(0);
    const shapes = JSON.parse(py.stdout);
    expect(shapes.depth).toEqual([3, job.result.height, job.result.width]);
    expect(shapes.extrinsics).toEqual([3, 3, 4]);
  });

  it('an idempotency key returns the same job; a signed user webhook arrives', async () => {
    const same = () =>
      fetch(`${stack.edgeUrl}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'e2e-same' },
        body: JSON.stringify({ inputs: [{ data: pngs[0].toString('base64') }], options: { processRes: 84 }, formats: 'mini_npz' }),
      });
    const [a, b] = await Promise.all([same(), same()]);
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    expect(((await a.json()) as { id: string }).id).toBe(((await b.json()) as { id: string }).id);
    // A webhook receiver for the user.
    const { createServer } = await import('node:http');
    const got: { headers: Record<string, string>; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ headers: req.headers as Record<string, string>, body });
        res.end();
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const port = (server.address() as { port: number }).port;
      const sub = await fetch(`${stack.edgeUrl}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ data: pngs[0].toString('base64') }], options: { processRes: 84 }, callbackUrl: `http://127.0.0.1:${port}/hook` }),
      });
      const { id } = (await sub.json()) as { id: string };
      for (let i = 0; i < 400 && got.length === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
      expect(got).toHaveLength(1);
      expect(verifyWebhook(stack.userSecret, got[0].headers, got[0].body)).toMatchObject({ type: 'job.succeeded', data: { id } });
    } finally {
      server.close();
    }
  });
});
