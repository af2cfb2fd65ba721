import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageU8, StreamEvent, StreamFrame } from '@da3js/core';
import { DepthAnything3, WEB_STREAM_DEFAULTS, type WebProgressEvent, blobByteSource, blobSink, executionProviders } from '@da3js/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadCaseOutputs, loadTensors } from '../../../test-utils/fixtures.js';
import { type FakeHub, startFakeHub } from '../../node/test/helpers/fake-hub.js';

/**
 * The web library in Node with onnxruntime-web's WASM backend: weights streamed by HTTP range
 * requests from a local server in the hub layout, converted in "the page", run, and compared with
 * the reference's Prediction.
 */
let hub: FakeHub;
beforeAll(async () => {
  const files = ['config.json', 'model.safetensors'];
  hub = await startFakeHub({
    repos: {
      'depth-anything/DA3-TINY': { dir: join(FIXTURES, 'tiny'), files },
      'depth-anything/DA3MONO-TINY': { dir: join(FIXTURES, 'tiny-mono'), files },
      'depth-anything/DA3-TINY-GIANT': { dir: join(FIXTURES, 'tiny-giant'), files },
    },
  });
});
afterAll(() => hub?.close());

function views(u8: { data: unknown; shape: number[] }): ImageU8[] {
  const [S, H, W] = u8.shape;
  // RGBA, as a canvas's ImageData would give.
  return Array.from({ length: S }, (_, s) => {
    const rgb = (u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3);
    const rgba = new Uint8ClampedArray(H * W * 4);
    for (let i = 0; i < H * W; i++) {
      rgba[i * 4] = rgb[i * 3];
      rgba[i * 4 + 1] = rgb[i * 3 + 1];
      rgba[i * 4 + 2] = rgb[i * 3 + 2];
      rgba[i * 4 + 3] = 255;
    }
    return { data: rgba, width: W, height: H, channels: 4 as const };
  });
}

function close(got: Float32Array, want: Float32Array, tol: number, label: string) {
  expect(got.length, label).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) - tol * (1 + Math.abs(want[i])));
  expect(worst, label).toBeLessThanOrEqual(0);
}

describe.each([
  ['depth-anything/DA3-TINY', 'tiny', 'multi', true],
  ['depth-anything/DA3MONO-TINY', 'tiny-mono', 'multi', false],
] as const)('web DepthAnything3 %s on WASM', (repo, dir, name, cameras) => {
  it('streams the checkpoint by range requests, converts in the page, and equals the reference', async () => {
    const events: WebProgressEvent[] = [];
    const model = await DepthAnything3.fromPretrained(repo, { endpoint: hub.endpoint, device: 'wasm', threads: 1, progress: (e) => events.push(e) });
    const inputs = await loadTensors(`${dir}/${name}/inputs.safetensors`);
    const outputs = await loadCaseOutputs(dir, name);
    const pred = await model.inference(views(inputs.image_u8), { processRes: 84 });
    close(pred.depth, outputs['pred.depth'].data as Float32Array, 1e-4, 'depth');
    // Which keys each model has is explicit: a renamed fixture key fails instead of being skipped.
    if (cameras) {
      close(pred.extrinsics!, outputs['pred.extrinsics'].data as Float32Array, 1e-5, 'extrinsics');
      close(pred.intrinsics!, outputs['pred.intrinsics'].data as Float32Array, 1e-5, 'intrinsics');
      expect(pred.sky).toBeNull();
    } else {
      expect(pred.extrinsics).toBeNull();
      expect(Array.from(pred.sky!)).toEqual(Array.from(outputs['pred.sky'].data as Uint8Array));
    }
    expect(events.some((e) => e.status === 'convert')).toBe(true);
    expect(events.find((e) => e.status === 'ready')).toMatchObject({ providers: ['wasm'] });
    const ranges = hub.log.filter((r) => r.path.endsWith('model.safetensors') && r.range);
    expect(ranges.length).toBeGreaterThan(10);
    await model.dispose();
  });
});

describe('web DepthAnything3 GIANT-style (tiny-giant) on WASM', () => {
  it('posed inferGs: the reference’s Gaussians, rescaled by the Umeyama pose scale', async () => {
    const model = await DepthAnything3.fromPretrained('depth-anything/DA3-TINY-GIANT', { endpoint: hub.endpoint, device: 'wasm', threads: 1 });
    const inputs = await loadTensors('tiny-giant/posed/inputs.safetensors');
    const outputs = await loadCaseOutputs('tiny-giant', 'posed');
    const f32 = (k: string) => outputs[k].data as Float32Array;
    const pred = await model.inference(views(inputs.image_u8), {
      processRes: 42,
      inferGs: true,
      extrinsics: inputs.extrinsics_input.data as Float32Array,
      intrinsics: inputs.intrinsics_input.data as Float32Array,
    });
    await model.dispose();
    close(pred.depth, f32('pred.depth'), 1e-4, 'depth');
    const g = pred.gaussians!;
    close(g.means, f32('pred.gaussians.means'), 1e-4, 'means');
    close(g.scales, f32('pred.gaussians.scales'), 1e-4, 'scales');
    close(g.harmonics, f32('pred.gaussians.harmonics'), 1e-4, 'harmonics');
    close(g.opacities, f32('pred.gaussians.opacities'), 1e-4, 'opacities');
    // The reference's quaternions are [w, x, y, z]; ours xyzw.
    const wxyz = new Float32Array(g.rotations.length);
    for (let i = 0; i < wxyz.length; i += 4) wxyz.set([g.rotations[i + 3], g.rotations[i], g.rotations[i + 1], g.rotations[i + 2]], i);
    close(wxyz, f32('pred.gaussians.rotations'), 1e-4, 'rotations');
  });
});

describe('web I/O and guards', () => {
  it('Blob sources and sinks round-trip bytes', async () => {
    const sink = blobSink('application/octet-stream');
    sink.write(Uint8Array.of(1, 2, 3));
    sink.write(Uint8Array.of(4, 5));
    sink.close?.();
    const src = blobByteSource(sink.blob());
    expect(src.size).toBe(5);
    expect(Array.from(await src.read(1, 3))).toEqual([2, 3, 4]);
    await expect(src.read(4, 2)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
  });

  it('says what is missing: no WebGPU here, unknown devices, bad ids', async () => {
    await expect(executionProviders('webgpu')).rejects.toThrow(/WebGPU is not available/);
    expect(await executionProviders('auto')).toEqual(['wasm']);
    await expect(executionProviders('tpu' as never)).rejects.toMatchObject({ code: 'BAD_VALUE' });
    await expect(executionProviders('cuda' as never)).rejects.toMatchObject({ code: 'UNSUPPORTED' }); // @da3js/node's device
    await expect(DepthAnything3.fromPretrained('not an id')).rejects.toMatchObject({ code: 'BAD_VALUE' });
    await expect(DepthAnything3.fromPretrained('depth-anything/NOPE', { endpoint: hub.endpoint })).rejects.toMatchObject({ code: 'IO' });
  });

  it('uses no Node built-ins (it must bundle for browsers)', () => {
    const files = (function walk(d: string): string[] {
      return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : n.endsWith('.ts') ? [join(d, n)] : []));
    })(join(REPO_ROOT, 'packages/web/src'));
    const bad = files.filter((f) => /from\s+['"](node:|fs|path|os|zlib|stream|buffer|crypto|child_process|onnxruntime-node|sharp)/.test(readFileSync(f, 'utf8')));
    expect(files.length).toBeGreaterThan(2);
    expect(bad).toEqual([]);
  });
});

// Last: its long WASM runs would leave the fake hub's keep-alive sockets stale for a later fetch.
describe('web streamInference (DA3-Streaming in a tab) on WASM', () => {
  it('equals one-shot inference with one chunk, hands out every frame of several chunks once, and refuses overlap ≥ chunk', async () => {
    const model = await DepthAnything3.fromPretrained('depth-anything/DA3-TINY', { endpoint: hub.endpoint, device: 'wasm', threads: 1 });
    try {
      const inputs = await loadTensors('tiny/multi/inputs.safetensors');
      const frames = views(inputs.image_u8);
      const oneShot = await model.inference(frames, { processRes: 84 });
      const collect = async (gen: AsyncGenerator<StreamEvent, unknown>) => {
        const out: StreamFrame[] = [];
        const chunks: number[] = [];
        for await (const e of gen) {
          if (e.type === 'frame') out.push(e.frame);
          else chunks.push(e.chunk.index);
        }
        return { out, chunks };
      };
      const one = await collect(model.streamInference(frames, { processRes: 84 }));
      expect(WEB_STREAM_DEFAULTS).toEqual({ chunkSize: 16, overlap: 8 });
      expect(one.chunks).toEqual([0]);
      const n = oneShot.width * oneShot.height;
      for (const f of one.out) {
        expect(f.depth).toEqual(oneShot.depth.subarray(f.index * n, (f.index + 1) * n));
        expect(f.extrinsics).toEqual(oneShot.extrinsics!.subarray(12 * f.index, 12 * f.index + 12));
      }
      // Six frames (the three views twice, as an async source) in chunks of 3 overlapping by 2.
      const source = (async function* () {
        yield* frames;
        yield* frames;
      })();
      const many = await collect(model.streamInference(source, { processRes: 84, chunkSize: 3, overlap: 2 }));
      expect(many.chunks).toEqual([0, 1, 2, 3]);
      expect(many.out.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5]);
      await expect(model.streamInference(frames, { chunkSize: 4, overlap: 4 }).next()).rejects.toMatchObject({ code: 'BAD_VALUE' });
      await expect(model.streamInference(42 as never).next()).rejects.toMatchObject({ code: 'BAD_VALUE' });
    } finally {
      await model.dispose();
    }
  });
});
