import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeColmapModel, colmapModelFromPrediction, memorySink } from '@da3js/exporters';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadTensors } from '../../../test-utils/fixtures.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import { createGallery } from '../src/index.js';

const BIN = join(REPO_ROOT, 'packages/node/dist/cli/bin.js');
const work = mkdtempSync(join(tmpdir(), 'da3js-cli2-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

function da3(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--model-dir', join(FIXTURES, 'tiny'), '--json'], {
    encoding: 'utf8',
    env: { ...process.env, DA3_CACHE: join(work, 'cache') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : null };
}

/** GET with a raw request target (node:http sends it as is; fetch would normalise it). */
function rawGet(base: string, path: string): Promise<number> {
  const { port } = new URL(base);
  return new Promise((ok, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode!));
    });
    req.on('error', fail);
    req.end();
  });
}

let pngs: Buffer[] = [];
beforeAll(async () => {
  const inputs = await loadTensors('tiny/multi/inputs.safetensors');
  const [S, H, W] = inputs.image_u8.shape;
  pngs = await Promise.all(
    Array.from({ length: S }, (_, s) => sharp(Buffer.from((inputs.image_u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()),
  );
});

describe('da3 on a video and on a COLMAP folder', () => {
  it.runIf(hasFfmpeg || process.env.CI)('video: frames sampled at --fps through ffmpeg', () => {
    const video = join(work, 'clip.mp4');
    const mk = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=112x84:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', '-y', video]);
    expect(mk.status, 'ffmpeg must be installed (apt-get install ffmpeg)').toBe(0);
    const r = da3('auto', video, '--fps', '4', '--process-res', '112', '--export-format', 'mini_npz', '--export-dir', join(work, 'video-out'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ kind: 'video', views: 5, width: 112, height: 84 });
    expect(existsSync(join(work, 'video-out/exports/mini_npz/results.npz'))).toBe(true);
  });

  it('colmap: images/ + sparse/ run pose-conditioned inference with the COLMAP cameras', async () => {
    const root = join(work, 'colmap-scene');
    mkdirSync(join(root, 'images'), { recursive: true });
    mkdirSync(join(root, 'sparse'), { recursive: true });
    const names = pngs.map((_, i) => `img${i}.png`);
    for (const [i, b] of pngs.entries()) writeFileSync(join(root, 'images', names[i]), b);
    const pred = await fixturePrediction('tiny', 'multi');
    const { model } = colmapModelFromPrediction(pred, { imageNames: names });
    const sinks = new Map<string, ReturnType<typeof memorySink>>();
    await writeColmapModel(model, (n) => {
      const s = memorySink();
      sinks.set(n, s);
      return s;
    }, 'binary');
    for (const [n, s] of sinks) writeFileSync(join(root, 'sparse', n), s.bytes());
    const r = da3('colmap', root, '--process-res', '84', '--export-format', 'mini_npz', '--export-dir', join(work, 'colmap-out'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ kind: 'colmap', views: 3 });
    const auto = da3('auto', root, '--process-res', '84', '--export-format', 'mini_npz', '--export-dir', join(work, 'colmap-out2'));
    expect(auto.json).toMatchObject({ kind: 'colmap' });
  });
});

describe('filesystem and config errors are one typed line', () => {
  it('da3 convert with a malformed config.json names the file and BAD_CONFIG; an export folder through a file is IO', () => {
    const model = join(work, 'broken-config');
    mkdirSync(model, { recursive: true });
    copyFileSync(join(FIXTURES, 'tiny', 'model.safetensors'), join(model, 'model.safetensors'));
    writeFileSync(join(model, 'config.json'), '{"model_name": "da3-tiny", oops');
    const r = spawnSync(process.execPath, [BIN, 'convert', model, '--out', join(work, 'never')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^da3: error: .*broken-config\/config\.json: config: not valid JSON or YAML .*\[BAD_CONFIG\]$/);

    writeFileSync(join(work, 'plain-file'), 'x');
    writeFileSync(join(work, 'one.png'), pngs[0]);
    const e = da3('image', join(work, 'one.png'), '--process-res', '84', '--export-format', 'mini_npz', '--export-dir', join(work, 'plain-file', 'out'));
    expect(e.code).toBe(1);
    expect(e.stderr.trim().split('\n').pop()).toMatch(/^da3: error: cannot create the export folder .*plain-file\/out \(ENOTDIR: .*\) \[IO\]$/);
  });
});

describe('backend and gallery services', () => {
  it('da3 backend serves the job protocol: a generated token (mode 600), 401 without it, a job by inline image, SIGTERM → exit 0', async () => {
    const state = join(work, 'backend-state');
    const child = spawn(process.execPath, [BIN, 'backend', '--model-dir', join(FIXTURES, 'tiny'), '--port', '0', '--state-dir', state, '--cache-dir', join(work, 'cache')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DA3_TOKEN: '' },
    });
    try {
      let log = '';
      const url = await new Promise<string>((ok, fail) => {
        child.stderr.on('data', (d) => {
          log += String(d);
          const m = /listening on (http:\/\/\S+)/.exec(log);
          if (m) ok(m[1]);
        });
        child.once('exit', (code) => fail(new Error(`da3 backend exited with ${code}: ${log}`)));
      });
      const token = readFileSync(join(state, 'token'), 'utf8').trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(statSync(join(state, 'token')).mode & 0o777).toBe(0o600);
      expect(log).toContain(`token from ${join(state, 'token')}`);
      for (let i = 0; i < 200 && (await fetch(`${url}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const post = await fetch(`${url}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ inputs: pngs.map((b) => ({ data: b.toString('base64') })), options: { processRes: 84 }, formats: 'mini_npz' }) });
      expect(post.status).toBe(202);
      const { id } = (await post.json()) as { id: string };
      let job: { state: string; result?: { views: number; files: { name: string }[] } } = { state: 'queued' };
      for (let i = 0; i < 400 && (job.state === 'queued' || job.state === 'running'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        job = (await (await fetch(`${url}/v1/jobs/${id}`, { headers })).json()) as typeof job;
      }
      expect(job).toMatchObject({ state: 'succeeded', result: { views: 3, files: [{ name: 'exports/mini_npz/results.npz' }] } });
      // A request target that is no URL (`//` reads as an empty host) is refused (auth comes first), not a 500.
      expect(await rawGet(url, '//')).toBe(401);
      expect(await rawGet(url, '//[/v1/jobs')).toBe(401);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await new Promise((ok) => child.once('exit', ok))).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the gallery lists scenes and refuses paths outside its folder', async () => {
    const root = join(work, 'gallery');
    mkdirSync(join(root, 'scene1'), { recursive: true });
    writeFileSync(join(root, 'scene1', 'scene.glb'), 'glTF');
    writeFileSync(join(work, 'secret.txt'), 'secret');
    const server = createGallery(root);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/`)).text()).toMatch(/scene1\/scene\.glb/);
      expect((await fetch(`${base}/scene1/scene.glb`)).status).toBe(200);
      expect((await fetch(`${base}/..%2Fsecret.txt`)).status).toBe(403);
      expect((await fetch(`${base}/scene1/missing.glb`)).status).toBe(404);
      // Fuzz findings (fuzz/regressions/gallery): targets the URL parser refuses used to answer 500.
      for (const path of ['//', '////', '//.%1_000', 'http://1r7,0.0.1/../secret.txt']) expect(await rawGet(base, path), path).toBe(400);
      expect(await rawGet(base, '/scene1/scene.glb')).toBe(200);
    } finally {
      server.close();
    }
    expect(readdirSync(root)).toEqual(['scene1']);
  });

  it('the gallery refuses symlinks that lead outside its folder', async () => {
    const root = join(work, 'gallery-links');
    mkdirSync(join(root, 'scene1'), { recursive: true });
    writeFileSync(join(root, 'scene1', 'scene.glb'), 'glTF');
    writeFileSync(join(work, 'secret.txt'), 'secret');
    symlinkSync(join(work, 'secret.txt'), join(root, 'scene1', 'link.glb'));
    symlinkSync(work, join(root, 'up'));
    symlinkSync(join(root, 'scene1', 'scene.glb'), join(root, 'scene1', 'inside.glb'));
    const server = createGallery(root);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/scene1/link.glb`)).status).toBe(403);
      expect((await fetch(`${base}/up/secret.txt`)).status).toBe(403);
      const inside = await fetch(`${base}/scene1/inside.glb`);
      expect(inside.status).toBe(200); // a link that stays inside is fine
      expect(await inside.text()).toBe('glTF');
    } finally {
      server.close();
    }
  });

  it('an unreadable file fails only its own request; the gallery keeps serving', async () => {
    const root = join(work, 'gallery-perm');
    mkdirSync(join(root, 'scene1'), { recursive: true });
    chmodSync(work, 0o755);
    chmodSync(root, 0o755);
    chmodSync(join(root, 'scene1'), 0o755);
    writeFileSync(join(root, 'scene1', 'scene.glb'), 'glTF', { mode: 0o644 });
    writeFileSync(join(root, 'scene1', 'locked.glb'), 'nope', { mode: 0o000 });
    chmodSync(join(root, 'scene1', 'locked.glb'), 0o000);
    // As root every file is readable: run the gallery in a child that drops to nobody (65534).
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { createGallery } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'packages/node/dist/index.js')).href)});
         if (process.getuid() === 0) { process.setgid(65534); process.setuid(65534); }
         const s = createGallery(${JSON.stringify(root)});
         s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const port = await new Promise<number>((ok, fail) => {
        child.stdout.once('data', (d) => ok(Number(String(d).trim())));
        child.once('exit', (code) => fail(new Error(`gallery exited with ${code}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const locked = await fetch(`${base}/scene1/locked.glb`);
      expect(locked.status).toBe(403);
      expect(await locked.json()).toMatchObject({ error: expect.stringContaining('EACCES') });
      for (let i = 0; i < 3; i++) {
        const ok = await fetch(`${base}/scene1/scene.glb`);
        expect(ok.status).toBe(200);
        expect(await ok.text()).toBe('glTF');
      }
      expect(child.exitCode).toBe(null);
    } finally {
      child.kill();
    }
  });
});
