import { join } from 'node:path';
import { type AbortSignalLike, type ImageU8, isDa3Error } from '@da3js/core';
import { DepthAnything3, type WebProgressEvent, abortable, exportToFiles, memoryModelCache, memoryTimingStore } from '@da3js/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, loadCaseOutputs, loadTensors } from '../../../test-utils/fixtures.js';
import { type FakeHub, startFakeHub } from '../../node/test/helpers/fake-hub.js';

/**
 * Cancellation in @da3js/web (Node, onnxruntime-web WASM): an AbortSignal stops the download in
 * fromPretrained, a first-use graph conversion (between tensors, and a stalled tensor request),
 * every inference stage and every export write with the typed `ABORTED` error; nothing partial is
 * cached or returned, and the next call works and gives the reference's numbers. Also the
 * network-time estimate of the progress events. The Cache API / browser paths are in
 * browser.test.ts.
 */
const REPO = 'depth-anything/DA3-TINY';
let hub: FakeHub;
let images: ImageU8[];
let golden: Float32Array;

beforeAll(async () => {
  hub = await startFakeHub({ repos: { [REPO]: { dir: join(FIXTURES, 'tiny'), files: ['config.json', 'model.safetensors'] } } });
  const u8 = (await loadTensors('tiny/multi/inputs.safetensors')).image_u8;
  const [S, H, W] = u8.shape;
  images = Array.from({ length: S }, (_, s) => ({ data: (u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3), width: W, height: H, channels: 3 as const }));
  golden = (await loadCaseOutputs('tiny', 'multi'))['pred.depth'].data as Float32Array;
});
afterAll(() => hub?.close());

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

function expectAborted(e: unknown, what: string): void {
  expect(isDa3Error(e, 'ABORTED'), `${what}: ${e}`).toBe(true);
}

function worstDepth(got: Float32Array): number {
  expect(got.length).toBe(golden.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - golden[i]) - 1e-4 * (1 + Math.abs(golden[i])));
  return worst;
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

const load = (extra: Record<string, unknown> = {}) => DepthAnything3.fromPretrained(REPO, { endpoint: hub.endpoint, device: 'wasm', threads: 1, timings: false, ...extra });

describe('AbortSignal in @da3js/web', () => {
  it('fromPretrained: an abort while the weights request is stalled rejects with ABORTED within 100 ms; the next load works', async () => {
    hub.stallAfter('model.safetensors', 0, 1);
    const ac = new AbortController();
    const gets = hub.requestsFor('model.safetensors', 'GET').length;
    const p = rejection(load({ signal: ac.signal }));
    const deadline = Date.now() + 10_000;
    while (hub.requestsFor('model.safetensors', 'GET').length === gets && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    ac.abort(new Error('user cancelled'));
    const e = await p;
    const latency = performance.now() - t0;
    console.log(`fromPretrained abort latency: ${latency.toFixed(1)} ms`);
    expectAborted(e, 'fromPretrained');
    expect((e as Error).cause).toEqual(new Error('user cancelled'));
    expect(latency).toBeLessThan(100);
    const model = await load();
    expect(model.kind).toBe('anyview');
    await model.dispose();
  });

  it('an already-aborted signal rejects before any request', async () => {
    const before = hub.log.length;
    expectAborted(await rejection(load({ signal: AbortSignal.abort() })), 'fromPretrained');
    expect(hub.log.length).toBe(before);
  });

  it('a first-use conversion aborted between tensors caches nothing; the next run converts, caches one graph and matches the reference', async () => {
    const cache = memoryModelCache();
    const ac = new AbortController();
    let converted = 0;
    const progress = (e: WebProgressEvent) => {
      if (e.status === 'convert') {
        converted = e.done;
        if (e.done === 3) ac.abort();
      }
    };
    const model = await load({ cache, progress });
    expectAborted(await rejection(model.inference(images, { processRes: 84, signal: ac.signal })), 'conversion');
    expect(converted).toBe(3);
    expect(cache.keys()).toEqual([]);
    const pred = await model.inference(images, { processRes: 84 });
    expect(worstDepth(pred.depth)).toBeLessThanOrEqual(0);
    expect(cache.keys()).toHaveLength(1);
    await model.dispose();
  });

  it('a conversion whose tensor request stalls stops within 100 ms of the abort, with no cache entry', async () => {
    const cache = memoryModelCache();
    const model = await load({ cache });
    hub.stallAfter('model.safetensors', 0, 1);
    const ac = new AbortController();
    const gets = hub.requestsFor('model.safetensors', 'GET').length;
    const p = rejection(model.inference(images, { processRes: 84, signal: ac.signal }));
    const deadline = Date.now() + 10_000;
    while (hub.requestsFor('model.safetensors', 'GET').length === gets && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    ac.abort();
    const e = await p;
    const latency = performance.now() - t0;
    console.log(`conversion (stalled tensor read) abort latency: ${latency.toFixed(1)} ms`);
    expectAborted(e, 'stalled conversion');
    expect(latency).toBeLessThan(100);
    expect(cache.keys()).toEqual([]);
    expect(worstDepth((await model.inference(images, { processRes: 84 })).depth)).toBeLessThanOrEqual(0);
    await model.dispose();
  });

  it('inference aborted at each stage (decode, preprocess, network, postprocess): ABORTED, nothing after it ran; the next run is identical', async () => {
    const model = await load({ cache: memoryModelCache() });
    const first = await model.inference(images, { processRes: 84 });
    for (const stage of ['decode', 'preprocess', 'network', 'postprocess'] as const) {
      const ac = new AbortController();
      const seen: string[] = [];
      const e = await rejection(
        model.inference(images, {
          processRes: 84,
          signal: ac.signal,
          onProgress: (p) => {
            const name = p.status === 'decode' ? 'decode' : p.stage;
            seen.push(name);
            if (name === stage) ac.abort();
          },
        }),
      );
      expectAborted(e, stage);
      expect(seen.at(-1)).toBe(stage);
      expect(seen.filter((s) => s === stage)).toHaveLength(1);
    }
    const again = await model.inference(images, { processRes: 84 });
    expect(Array.from(again.depth)).toEqual(Array.from(first.depth));
    await model.dispose();
  });

  it('abortable: a pending operation (a session run cannot be interrupted) rejects with ABORTED when the signal fires, not when it ends', async () => {
    const ac = new AbortController();
    let settle: (v: string) => void = () => undefined;
    const never = new Promise<string>((r) => {
      settle = r;
    });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    const t0 = performance.now();
    const e = await rejection(abortable(never, ac.signal, 'inference'));
    expectAborted(e, 'abortable');
    expect((e as Error).message).toBe('inference aborted');
    expect(performance.now() - t0).toBeLessThan(200);
    settle('late');
    // Without a signal, or when the operation ends first, the value passes through.
    expect(await abortable(Promise.resolve(7), new AbortController().signal, 'x')).toBe(7);
    expect(await abortable(Promise.resolve(8), undefined, 'x')).toBe(8);
  });

  it('exports aborted at every write return ABORTED and no files; the same export then succeeds', async () => {
    const model = await load({ cache: memoryModelCache() });
    const pred = await model.inference(images, { processRes: 84 });
    await model.dispose();
    const formats = 'glb-mini_npz-depth_vis-ply-colmap';
    const counter = abortOnRead(Number.POSITIVE_INFINITY);
    const expected = await pred.export(formats, { signal: counter });
    expect(counter.reads).toBeGreaterThan(10);
    for (let k = 0; k < 12; k++) {
      const at = 1 + Math.floor((k * counter.reads) / 12);
      const e = await rejection(pred.export(formats, { signal: abortOnRead(at) }));
      expectAborted(e, `export abort at read ${at}`);
    }
    // A real AbortController fired from a timer is heard mid-export (the export yields).
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 0);
    expectAborted(await rejection(exportToFiles(pred, 'glb-ply-depth_vis-mini_npz-glb', { signal: ac.signal })), 'timer abort');
    const files = await pred.export(formats);
    expect(files.map((f) => f.name)).toEqual(expected.map((f) => f.name));
    expect(files.every((f, i) => f.size === expected[i].size && f.size > 0)).toBe(true);
  });
});

describe('progress of @da3js/web inference', () => {
  it('per view while decoding, per stage with the view count, and a network estimate from the previous run', async () => {
    const timings = memoryTimingStore();
    const model = await load({ cache: memoryModelCache(), timings });
    const runs: { status: string; stage?: string; views: number; done?: number; estimatedMs?: number; elapsedMs: number }[][] = [];
    for (let r = 0; r < 3; r++) {
      const events: (typeof runs)[number] = [];
      await model.inference(images, { processRes: 84, onProgress: (e) => events.push({ ...e }) });
      runs.push(events);
    }
    const names = runs[2].map((e) => (e.status === 'decode' ? `decode ${e.done}/${e.views}` : `${e.stage}`));
    expect(names).toEqual(['decode 1/3', 'decode 2/3', 'decode 3/3', 'preprocess', 'network', 'network', 'postprocess']);
    expect(runs[2].every((e) => e.views === 3)).toBe(true);
    expect(runs[2].every((e, i) => i === 0 || e.elapsedMs >= runs[2][i - 1].elapsedMs)).toBe(true);
    // Run 1 has no estimate (nothing measured yet; its session-run time is the first sample, its
    // conversion is not counted); runs 2 and 3 have one.
    const estimate = (events: (typeof runs)[number]) => events.find((e) => e.stage === 'network')?.estimatedMs;
    expect(estimate(runs[0])).toBeUndefined();
    expect(estimate(runs[1])).toBeGreaterThan(0);
    const est = estimate(runs[2]);
    expect(est).toBeGreaterThan(0);
    const net = runs[2].filter((e) => e.stage === 'network');
    const actual = runs[2].find((e) => e.stage === 'postprocess')!.elapsedMs - net[0].elapsedMs;
    console.log(`network estimate ${est} ms, actual ${actual} ms`);
    // Same size, same machine: within a factor of 3 (a loaded CI machine varies).
    expect(est!).toBeLessThan(3 * actual + 50);
    expect(est!).toBeGreaterThan(actual / 3 - 50);
    await model.dispose();
  });
});
