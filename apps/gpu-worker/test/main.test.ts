/**
 * The built worker as a process (what the Docker image and Modal run): configured by the
 * environment, serving the tiny fixture model on loopback, driven by `@da3js/client`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { da3Worker } from '@da3js/client';
import { DepthAnything3 } from '@da3js/node';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadTensors } from '../../../test-utils/fixtures.js';

const MAIN = join(REPO_ROOT, 'apps/gpu-worker/dist/main.js');
const TOKEN = 'worker-token-0123456789abcdef';
const work = mkdtempSync(join(tmpdir(), 'da3js-worker-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Logged {
  msg: string;
  level: string;
  [k: string]: unknown;
}

function startWorker(env: Record<string, string>): { child: ChildProcess; logs: Logged[]; line: (pred: (l: Logged) => boolean) => Promise<Logged>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, HF_HUB_OFFLINE: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const logs: Logged[] = [];
  const waiters: { pred: (l: Logged) => boolean; ok: (l: Logged) => void }[] = [];
  let buffer = '';
  child.stderr!.on('data', (d) => {
    buffer += String(d);
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const l = JSON.parse(text) as Logged;
      logs.push(l);
      for (const w of waiters.filter((x) => x.pred(l))) w.ok(l);
    }
  });
  return {
    child,
    logs,
    line: (pred) => new Promise((ok) => (logs.find(pred) ? ok(logs.find(pred)!) : waiters.push({ pred, ok }))),
    exited: new Promise((ok) => child.once('exit', (code) => ok(code))),
  };
}

describe('apps/gpu-worker', () => {
  it('starts from the environment, warms up on the CPU (logging why not CUDA), runs jobs for @da3js/client, and drains on SIGTERM', async () => {
    const w = startWorker({ DA3_MODEL: join(FIXTURES, 'tiny'), DA3_TOKEN: TOKEN, DA3_CACHE: join(work, 'cache'), DA3_STATE_DIR: join(work, 'state'), PORT: '0' });
    try {
      const listening = await w.line((l) => l.msg === 'listening');
      const url = listening.url as string;
      const ready = await w.line((l) => l.msg.startsWith('model ready on'));
      expect(ready).toMatchObject({ msg: 'model ready on cpu', level: 'warn', cudaNotUsed: expect.any(String) });
      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      const inputs = await loadTensors('tiny/multi/inputs.safetensors');
      const [S, H, W] = inputs.image_u8.shape;
      const pngs = await Promise.all(
        Array.from({ length: S }, (_, s) => sharp(Buffer.from((inputs.image_u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()),
      );
      const client = da3Worker({ url, token: TOKEN });
      const { job, files } = await client.run({ inputs: pngs.map((b) => ({ data: b.toString('base64') })), options: { processRes: 84 }, formats: 'mini_npz' }, { pollIntervalMs: 20 });
      expect(job.result).toMatchObject({ views: 3, width: 84, height: 56 });
      // Same bytes as a local inference + export.
      const model = await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny'), { cacheDir: join(work, 'cache') });
      const [local] = await (await model.inference(pngs.map((b) => new Uint8Array(b)), { processRes: 84 })).export({ dir: join(work, 'local'), formats: 'mini_npz' });
      await model.dispose();
      const { readFileSync } = await import('node:fs');
      expect(Buffer.from(files[0].bytes).equals(readFileSync(local))).toBe(true);

      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
      expect(w.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['SIGTERM: draining', 'stopped']));
    } finally {
      w.child.kill('SIGKILL');
    }
  });

  it('exits 2 naming the variable when the configuration is bad, and 1 when the model cannot be loaded', async () => {
    const noToken = startWorker({ DA3_MODEL: join(FIXTURES, 'tiny'), DA3_TOKEN: '' });
    expect(await noToken.exited).toBe(2);
    expect(noToken.logs[0]).toMatchObject({ level: 'error', msg: expect.stringMatching(/^DA3_TOKEN: /) });
    const badModel = startWorker({ DA3_MODEL: join(work, 'no-such-model'), DA3_TOKEN: TOKEN, DA3_CACHE: join(work, 'cache'), DA3_STATE_DIR: join(work, 'state2'), PORT: '0' });
    expect(await badModel.exited).toBe(1);
    expect(badModel.logs.find((l) => l.level === 'error')).toMatchObject({ msg: expect.stringMatching(/could not be loaded: .*no-such-model/), code: 'IO' });
  });
});
