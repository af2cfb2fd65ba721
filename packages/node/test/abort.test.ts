import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AbortSignalLike, type ImageU8, isDa3Error } from '@da3js/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadCaseOutputs, loadTensors } from '../../../test-utils/fixtures.js';
import { DepthAnything3, type Da3ProgressEvent } from '../src/index.js';
import { exportToDirectory } from '../src/export/export-dir.js';
import { type FakeHub, startFakeHub } from './helpers/fake-hub.js';

/**
 * Cancellation: an AbortSignal stops downloads, graph conversion, inference and exports with the
 * typed `ABORTED` error, leaves nothing partial behind, and the next call works (and gives the
 * reference's numbers). The CLI stops cleanly on SIGINT.
 */
const work = mkdtempSync(join(tmpdir(), 'da3js-abort-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const files = { configPath: join(FIXTURES, 'tiny', 'config.json'), weightsPath: join(FIXTURES, 'tiny', 'model.safetensors') };
const raw = async (input: unknown) => input as ImageU8;
let images: ImageU8[];

beforeAll(async () => {
  const u8 = (await loadTensors('tiny/multi/inputs.safetensors')).image_u8;
  const [S, H, W] = u8.shape;
  images = Array.from({ length: S }, (_, s) => ({ data: (u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3), width: W, height: H, channels: 3 as const }));
});

/** Every file under `dir` (relative paths), recursively. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1))
    .sort();
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** A signal that fires on its `n`-th read of `aborted` (1-based): lands the abort at every step in turn. */
function abortOnRead(n: number): AbortSignalLike & { reads: number } {
  return {
    reads: 0,
    get aborted() {
      this.reads++;
      return this.reads >= n;
    },
    reason: new Error('test abort'),
  };
}

describe('AbortSignal in the node model', () => {
  it('aborts a first-use graph conversion: ABORTED, no graph or temp file in the cache, the next call converts and matches the reference', async () => {
    const cacheDir = join(work, 'convert');
    const ac = new AbortController();
    const progress = (e: Da3ProgressEvent) => {
      if (e.status === 'convert' && e.done === 3) ac.abort(new Error('user cancelled'));
    };
    const model = DepthAnything3.fromFiles(files, { cacheDir, progress }, raw);
    const e = await rejection(model.inference(images, { processRes: 84, signal: ac.signal }));
    expect(isDa3Error(e, 'ABORTED'), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/aborted/);
    expect(tree(join(cacheDir, 'graphs'))).toEqual([]);

    const pred = await model.inference(images, { processRes: 84 });
    const ref = await loadCaseOutputs('tiny', 'multi');
    expect(Math.max(...pred.depth.map((v, i) => Math.abs(v - (ref['out.depth'].data as Float32Array)[i])))).toBeLessThan(1e-4);
    // One graph (and onnxruntime's saved optimised copy of it, `.ort-<hash>.onnx`).
    expect(tree(join(cacheDir, 'graphs')).filter((f) => f.endsWith('.onnx') && !/\.ort-[0-9a-f]+\.onnx$/.test(f))).toHaveLength(1);
    await model.dispose();
  });

  it('aborts inference at each stage boundary; the model stays usable and the next run is identical', async () => {
    const cacheDir = join(work, 'infer');
    const model = DepthAnything3.fromFiles(files, { cacheDir }, raw);
    const first = await model.inference(images, { processRes: 84 });
    for (const stage of ['preprocess', 'network', 'postprocess'] as const) {
      const ac = new AbortController();
      const seen: string[] = [];
      const e = await rejection(
        model.inference(images, {
          processRes: 84,
          signal: ac.signal,
          onProgress: (p) => {
            seen.push(p.stage);
            if (p.stage === stage) ac.abort();
          },
        }),
      );
      expect(isDa3Error(e, 'ABORTED'), `${stage}: ${e}`).toBe(true);
      // Nothing after the aborting stage ran.
      expect(seen.at(-1)).toBe(stage);
    }
    const already = await rejection(model.inference(images, { processRes: 84, signal: AbortSignal.abort() }));
    expect(isDa3Error(already, 'ABORTED')).toBe(true);
    const again = await model.inference(images, { processRes: 84 });
    expect(Array.from(again.depth)).toEqual(Array.from(first.depth));
    await model.dispose();
  });

  it('aborts an export at every write: ABORTED, the folder unchanged (no file, no staging folder), then the same export succeeds', async () => {
    const model = DepthAnything3.fromFiles(files, { cacheDir: join(work, 'export-cache') }, raw);
    const pred = await model.inference(images, { processRes: 84 });
    await model.dispose();
    const dir = join(work, 'export');
    mkdirSync(dir);
    const formats = 'glb-mini_npz-depth_vis-ply-colmap';
    // Count the signal's reads in a full run, then abort at 12 points spread over it.
    const counter = abortOnRead(Number.POSITIVE_INFINITY);
    const expected = await exportToDirectory(pred, { dir: join(work, 'export-count'), formats, signal: counter });
    expect(counter.reads).toBeGreaterThan(10);
    for (let k = 0; k < 12; k++) {
      const at = 1 + Math.floor((k * counter.reads) / 12);
      const e = await rejection(exportToDirectory(pred, { dir, formats, signal: abortOnRead(at) }));
      expect(isDa3Error(e, 'ABORTED'), `abort at read ${at}: ${e}`).toBe(true);
      expect(readdirSync(dir), `abort at read ${at}`).toEqual([]);
    }
    const written = await exportToDirectory(pred, { dir, formats });
    expect(written.map((f) => f.slice(dir.length + 1))).toEqual(expected.map((f) => f.slice(join(work, 'export-count').length + 1)));
    expect(written.every((f) => statSync(f).size > 0)).toBe(true);
  });
});

describe('AbortSignal while downloading', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await startFakeHub({ repos: { 'depth-anything/DA3-TINY': { dir: join(FIXTURES, 'tiny'), files: ['config.json', 'model.safetensors'] } } });
  });
  afterAll(() => hub?.close());

  it('fromPretrained: an abort during a stalled download rejects with ABORTED at once; no snapshot is made; the next call completes', async () => {
    const cacheDir = join(work, 'download');
    hub.stallAfter('model.safetensors', 4096);
    const ac = new AbortController();
    const gets = hub.requestsFor('model.safetensors', 'GET').length;
    const p = rejection(DepthAnything3.fromPretrained('depth-anything/DA3-TINY', { endpoint: hub.endpoint, cacheDir, signal: ac.signal }));
    const deadline = Date.now() + 10_000;
    while (hub.requestsFor('model.safetensors', 'GET').length === gets && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const abortedAt = Date.now();
    ac.abort(new Error('user cancelled'));
    const e = await p;
    expect(isDa3Error(e, 'ABORTED'), String(e)).toBe(true);
    expect(Date.now() - abortedAt).toBeLessThan(2_000);
    expect(tree(cacheDir).filter((f) => f.includes('snapshots'))).toEqual([]);
    const model = await DepthAnything3.fromPretrained('depth-anything/DA3-TINY', { endpoint: hub.endpoint, cacheDir });
    expect(model.kind).toBe('anyview');
    await model.dispose();
  }, 30_000);
});

describe('da3 CLI and Ctrl-C', () => {
  it('SIGINT during a download stops within seconds: exit 130, "stopped", no export and no snapshot', async () => {
    const hub = await startFakeHub({ repos: { 'depth-anything/DA3-TINY': { dir: join(FIXTURES, 'tiny'), files: ['config.json', 'model.safetensors'] } } });
    try {
      const scene = join(work, 'cli-scene');
      mkdirSync(scene);
      const u8 = images[0];
      await sharp(Buffer.from(u8.data), { raw: { width: u8.width, height: u8.height, channels: 3 } }).png().toFile(join(scene, 'a.png'));
      hub.stallAfter('model.safetensors', 4096, 5);
      const cache = join(work, 'cli-cache');
      const out = join(work, 'cli-out');
      const child = spawn(process.execPath, [join(REPO_ROOT, 'packages/node/bin/da3.js'), 'auto', scene, '--model-dir', 'depth-anything/DA3-TINY', '--export-dir', out], {
        env: { ...process.env, HF_ENDPOINT: hub.endpoint, DA3_CACHE: cache, HF_HUB_OFFLINE: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const deadline = Date.now() + 20_000;
      while (hub.requestsFor('model.safetensors', 'GET').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(hub.requestsFor('model.safetensors', 'GET').length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200));
      const sentAt = Date.now();
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(Date.now() - sentAt).toBeLessThan(5_000);
      expect(code, stderr).toBe(130);
      expect(stderr).toMatch(/da3: stopped/);
      expect(existsSync(out)).toBe(false);
      expect(tree(cache).filter((f) => f.includes('snapshots'))).toEqual([]);
    } finally {
      await hub.close();
    }
  }, 40_000);
});
