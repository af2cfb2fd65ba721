/**
 * Reconstruct from Blender against real services: `da3 backend` started here with the tiny model
 * (built CLI, `--port 0`, a temp state folder, a token), driven by the add-on inside Debian's
 * Blender — images, a folder, a movie clip; progress from the background thread; cancel while
 * queued; typed reports for no input, a wrong token and a stopped backend; remote mode with a
 * GPU-worker URL; the add-on starting and stopping a backend of its own; and remote mode against
 * the edge API run as its own end-to-end test runs it (apps/edge/scripts/stack.mjs: `wrangler dev`
 * in local mode + an apps/gpu-worker process; needs the repository built, as `npm test` does).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT } from '../../../test-utils/fixtures.js';
import { requireTool } from '../../../test-utils/tools.js';
import { addonZip, requireBlender, runBlender, script } from './helpers/blender.js';
// @ts-expect-error: plain ESM script without types (the edge's own end-to-end stack)
import { createKey, startStack } from '../../../apps/edge/scripts/stack.mjs';

// biome-ignore lint/suspicious/noExplicitAny: the JSON the Blender script prints
type Json = any;

const BIN = join(REPO_ROOT, 'packages', 'node', 'dist', 'cli', 'bin.js');
const TOKEN = 'blender-bridge-test-token-0123456789';
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
const hasFfmpeg = spawnSync(FFMPEG, ['-version'], { encoding: 'utf8' }).status === 0;

const tmp = mkdtempSync(join(tmpdir(), 'da3js-blender-reconstruct-'));
const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const fn of cleanup.reverse()) fn();
  rmSync(tmp, { recursive: true, force: true });
});

/** Starts `da3 backend` with the tiny model; resolves with its URL once it prints it. */
async function startBackend(stateDir: string): Promise<{ url: string; child: ChildProcess }> {
  const args = [BIN, 'backend', '--model-dir', join(FIXTURES, 'tiny'), '--port', '0', '--state-dir', stateDir, '--cache-dir', join(tmp, 'cache'), '--token', TOKEN];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanup.push(() => child.kill('SIGKILL'));
  let log = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on('data', (d) => {
      log += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) ok(m[1]);
    });
    child.once('exit', (code) => fail(new Error(`da3 backend exited with ${code}: ${log}`)));
  });
  return { url, child };
}

/** A server that starts an image response and never finishes it (keeps a job in `fetch`). */
async function stallingServer(): Promise<string> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': '100000' });
    res.write('x');
    req.on('close', () => res.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  cleanup.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/never.png`;
}

describe('Reconstruct in Blender', () => {
  it('runs jobs on da3 backend, shows progress, cancels, reports typed errors, starts its own backend', async (ctx) => {
    if (!requireBlender(ctx)) return;
    const t0 = Date.now();
    const { url } = await startBackend(join(tmp, 'state'));
    const scene = join(REPO_ROOT, 'examples', 'scene');
    const images = [0, 1, 2, 3].map((i) => join(scene, `view${i}.png`));
    const folder = join(tmp, 'folder');
    mkdirSync(folder);
    for (const i of [0, 2, 3]) copyFileSync(images[i], join(folder, `view${i}.png`));
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    let video = '';
    if (requireTool({ skip: () => undefined }, hasFfmpeg, `'${FFMPEG}' not found: apt-get install -y ffmpeg (the movie-clip check is skipped)`)) {
      video = join(tmp, 'clip.mp4');
      const r = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-framerate', '4', '-i', join(scene, 'view%d.png'), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-r', '4', video]);
      expect(r.status, String(r.stderr)).toBe(0);
    }
    const config = join(tmp, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        url,
        token: TOKEN,
        images,
        folder,
        video,
        slow_url: await stallingServer(),
        results: join(tmp, 'results'),
        da3_command: `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`,
        model: join(FIXTURES, 'tiny'),
        state_dir: join(tmp, 'own-state'),
      }),
    );
    const run = await runBlender<Json>(script('check_reconstruct.py'), [addonZip(), config], join(tmp, 'profile'), 150_000);
    const r = run.result;
    expect(r.ok, `${r.error}\n${r.traceback}\n${run.stdout.slice(-3000)}`).toBe(true);

    // Images: progress moved forward in the background, the npz came back and was imported.
    const im = r.images;
    expect(im.level).toBe('INFO');
    expect(im.message).toMatch(/^DA3: imported DA3 job-.*: 4 cameras from /);
    expect(im.states).toEqual(expect.arrayContaining(['waiting', 'downloaded']));
    expect(im.fractions_monotonic).toBe(true);
    expect(im.last_fraction).toBe(1);
    expect(im.files).toEqual(['exports/npz/results.npz', 'job.json']);
    expect(im.job_json).toMatchObject({ state: 'succeeded', service: 'backend', result: { views: 4, isMetric: false, files: ['exports/npz/results.npz'] } });
    expect(im.cameras).toBe(4);
    expect(im.backgrounds).toBe(4);
    expect(im.points).toBe(im.npz.valid_pixels);
    expect(im.npz.views).toBe(4);
    expect(im.npz.k_err).toBeLessThan(1e-5);
    expect(im.npz.m_err).toBeLessThan(1e-5);
    expect(im.status).toMatch(/^Imported DA3 job-/);
    // The panels and the status bar draw (every property and operator they name exists).
    const ops = (log: [string, string][]) => log.filter(([k]) => k === 'operator').map(([, v]) => v);
    expect(ops(im.drawn.idle)).toEqual(['da3.choose_images', 'da3.clear_images', 'da3.start_backend', 'da3.check_backend', 'da3.reconstruct']);
    expect(ops(im.drawn.running)).toContain('da3.cancel_reconstruct');
    expect(ops(im.drawn.running)).not.toContain('da3.reconstruct');
    expect(im.drawn.status_bar.map(([, v]: [string, string]) => v)).toEqual([expect.stringMatching(/^DA3 \d+%: /), 'da3.cancel_reconstruct']);
    expect(ops(im.drawn.scene_panel)).toEqual(['da3.use_camera', 'da3.use_camera', 'da3.use_camera', 'da3.use_camera']);
    expect(im.drawn.scene_panel).toContainEqual(['prop', 'scale']);
    expect(im.drawn.FOLDER).toContainEqual(['prop', 'folder']);
    expect(im.drawn.MOVIE).toContainEqual(['prop', 'frame_step']);
    expect(im.drawn.remote).toContainEqual(['label', 'Edge API: set its URL in the add-on preferences']);
    expect(im.prefs_drawn).toBeGreaterThan(8);

    // Choose Images… stores the file browser's selection, sorted.
    expect(r.choose_images).toEqual({ status: ['FINISHED'], images: images.slice(0, 2), source: 'IMAGES' });
    // The UI path: the modal operator polls on timer events and imports when the job is done.
    expect(r.modal).toMatchObject({ ignored: ['PASS_THROUGH'], result: ['FINISHED'], cameras: 2, backgrounds: 2, active_jobs: 0 });
    expect(r.modal.ticks).toBeGreaterThan(1);
    expect(r.modal.reports).toEqual([[['INFO'], expect.stringMatching(/^DA3: imported DA3 job-.*: 2 cameras from /)]]);

    // A folder: its three images (the .txt ignored).
    expect(r.folder).toMatchObject({ status: ['FINISHED'], error: null, cameras: 3, backgrounds: 3 });
    expect(r.folder.points).toBeGreaterThan(0);

    // A movie clip: one video input sampled at clip fps / frame step.
    if (video) {
      expect(r.movie).toMatchObject({ status: ['FINISHED'], error: null, clip_fps: 4, clip_frames: 4 });
      expect(r.movie.cameras).toBe(2); // 4 frames at 4 fps, sampled at 2 fps
    }

    // Typed reports, no tracebacks, nothing imported.
    expect(r.no_input).toMatchObject({ status: null, code: 'NO_INPUT' });
    expect(r.no_input.error).toMatch(/DA3: \[NO_INPUT\] nothing to reconstruct/);
    expect(r.bad_token).toMatchObject({ status: null, code: 'UNAUTHORIZED', objects: 0 });
    expect(r.bad_token.error).toMatch(/DA3: \[UNAUTHORIZED\] a valid "Authorization: Bearer <token>" header is required/);

    // Cancel while queued behind a busy backend: canceled there too, nothing imported.
    expect(r.cancel).toMatchObject({ state_before: 'waiting', cancel_status: ['FINISHED'], level: 'WARNING', message: 'DA3: reconstruction canceled', state: 'canceled', remote_state: 'canceled', objects: 0, job_json: false, status: 'Canceled' });

    // Remote mode, GPU worker URL + token.
    expect(r.worker).toMatchObject({ status: ['FINISHED'], error: null, cameras: 2 });

    // The add-on's own backend: started (token written to its state folder), used, stopped; then a clear report.
    const own = r.own_backend;
    expect(own).toMatchObject({ started: ['FINISHED'], start_error: null, ready: true, token_file: true, status: ['FINISHED'], error: null, cameras: 2, stopped: ['FINISHED'], running_after_stop: false });
    expect(own.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(own).toMatchObject({ down_status: null, down_code: 'UNREACHABLE', down_objects: 0 });
    expect(own.down_error).toMatch(/DA3: \[UNREACHABLE\] cannot reach http:\/\/127\.0\.0\.1:\d+ \(.*refused.*\) — start it with Start Backend in the DA3 panel/i);
    console.log(`Reconstruct: Blender ${run.ms} ms, whole test ${Date.now() - t0} ms; own backend at ${own.url}; stopped-backend report: ${own.down_error}`);
  }, 200_000);

  it('runs a job on the edge API: uploads to presigned URLs, key inputs, results from R2', async (ctx) => {
    if (!requireBlender(ctx)) return;
    const built = existsSync(join(REPO_ROOT, 'apps', 'gpu-worker', 'dist', 'main.js'));
    if (!requireTool(ctx, built, 'apps/gpu-worker is not built: run npm run build (npm test does)')) return;
    const t0 = Date.now();
    // wrangler keeps logs and settings under ~/.config/.wrangler: keep this run's in the temp folder.
    const saved = { WRANGLER_LOG_PATH: process.env.WRANGLER_LOG_PATH, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
    process.env.WRANGLER_LOG_PATH = join(tmp, 'wrangler-logs');
    process.env.XDG_CONFIG_HOME = join(tmp, 'xdg-config');
    cleanup.push(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    const stack = await startStack({ workers: 1 });
    cleanup.push(() => void stack.stop());
    const apiKey = await createKey(stack);
    const config = join(tmp, 'edge.json');
    const images = [0, 1].map((i) => join(REPO_ROOT, 'examples', 'scene', `view${i}.png`));
    writeFileSync(config, JSON.stringify({ edge_url: stack.edgeUrl, api_key: apiKey, images, results: join(tmp, 'edge-results') }));
    const run = await runBlender<Json>(script('check_edge.py'), [addonZip(), config], join(tmp, 'edge-profile'), 150_000);
    await stack.stop();
    const r = run.result;
    expect(r.ok, `${r.error}\n${r.traceback}\n${run.stdout.slice(-3000)}`).toBe(true);
    expect(r.check).toBe(`Service: ready at ${stack.edgeUrl}`);
    expect(r.run).toMatchObject({ status: ['FINISHED'], error: null, cameras: 2, backgrounds: 2 });
    expect(r.run.points).toBeGreaterThan(0);
    expect(r.run.job).toMatchObject({ state: 'succeeded', service: 'edge', result: { views: 2, files: ['exports/npz/results.npz'] } });
    expect(r.bad_key).toMatchObject({ status: null, code: 'UNAUTHORIZED', objects: 0 });
    expect(r.bad_key.error).toMatch(/DA3: \[UNAUTHORIZED\] unknown API key/);
    console.log(`Edge: stack + Blender ${Date.now() - t0} ms (Blender ${run.ms} ms)`);
  }, 240_000);
});
