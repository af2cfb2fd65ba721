import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageU8, SafetensorsFile, memoryByteSource, writeSafetensors } from '@da3js/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { expectClose } from '../../../test-utils/compare.js';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';
import { DepthAnything3, type Da3ProgressEvent } from '../src/model/depth-anything-3.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'da3js-model-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const raw = async (input: unknown) => input as ImageU8;

function views(u8: { data: unknown; shape: number[] }): ImageU8[] {
  const [S, H, W] = u8.shape;
  return Array.from({ length: S }, (_, s) => ({ data: (u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3), width: W, height: H, channels: 3 as const }));
}

describe('DepthAnything3 (files → cached graphs → onnxruntime-node)', () => {
  it('converts once into the cache, runs on the CPU, and equals the reference Prediction', async () => {
    const events: Da3ProgressEvent[] = [];
    const files = { configPath: join(FIXTURES, 'tiny', 'config.json'), weightsPath: join(FIXTURES, 'tiny', 'model.safetensors') };
    const model = DepthAnything3.fromFiles(files, { cacheDir, device: 'auto', progress: (e) => events.push(e) }, raw);
    expect(model.kind).toBe('anyview');
    const inputs = await loadTensors('tiny/multi/inputs.safetensors');
    const outputs = await loadTensors('tiny/multi/outputs.safetensors');
    const pred = await model.inference(views(inputs.image_u8), { processRes: 84 });
    expect(model.device?.device).toBe('cpu');
    expectClose(pred.depth, outputs['out.depth'].data as Float32Array, { atol: 1e-4, rtol: 1e-4 }, 'depth');
    expectClose(pred.extrinsics!, outputs['pred.extrinsics'].data as Float32Array, { atol: 1e-5, rtol: 1e-5 }, 'extrinsics');
    expect(events.some((e) => e.status === 'convert')).toBe(true);
    expect(events.some((e) => e.status === 'ready')).toBe(true);
    const infer = events.filter((e) => e.status === 'infer') as { stage: string; graphsDone?: number; views: number; width?: number; elapsedMs: number }[];
    expect(infer.map((e) => `${e.stage}${e.graphsDone ?? ''}`)).toEqual(['preprocess', 'network0', 'network1', 'postprocess']);
    expect(infer.every((e) => e.views === 3 && e.elapsedMs >= 0)).toBe(true);
    expect(infer[1].width).toBe(pred.width);
    const out = join(cacheDir, 'export');
    const exported = await pred.export({ dir: out, formats: 'mini_npz-depth_vis' });
    expect(exported.map((f) => f.slice(out.length + 1))).toEqual(['exports/mini_npz/results.npz', 'depth_vis/0000.jpg', 'depth_vis/0001.jpg', 'depth_vis/0002.jpg']);
    expect(exported.every((f) => existsSync(f))).toBe(true);
    expect(readdirSync(join(out, 'depth_vis')).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await expect(pred.export({ dir: out, formats: 'mini_npz-nope' })).rejects.toMatchObject({ code: 'UNKNOWN_FORMAT' });
    await model.dispose();

    // A second model over the same files reuses the cached graph (no conversion events) and
    // onnxruntime's optimised copy of it (saved by the first session), with the same results.
    const graphs = readdirSync(join(cacheDir, 'graphs'));
    expect(graphs).toHaveLength(1);
    const dir = join(cacheDir, 'graphs', graphs[0]);
    // No call read the ray map: the graph was built without the ray branch; weights in a side file.
    expect(readdirSync(dir).filter((f) => f.startsWith('net-unposed-fp32-saddle_balanced-norays.onnx')).sort()).toEqual(['net-unposed-fp32-saddle_balanced-norays.onnx', 'net-unposed-fp32-saddle_balanced-norays.onnx.data']);
    expect(readdirSync(dir).filter((f) => /^net-unposed-fp32-saddle_balanced-norays\.ort-[0-9a-f]{12}\.onnx(\.data)?$/.test(f))).toHaveLength(2);
    const again: Da3ProgressEvent[] = [];
    const model2 = DepthAnything3.fromFiles(files, { cacheDir, progress: (e) => again.push(e) }, raw);
    const pred2 = await model2.inference(views(inputs.image_u8), { processRes: 84 });
    expect(again.some((e) => e.status === 'convert')).toBe(false);
    expectClose(pred2.depth, outputs['out.depth'].data as Float32Array, { atol: 1e-4, rtol: 1e-4 }, 'depth (optimised copy)');
    // keepRays needs the ray branch: a second graph, with it.
    const withRays = await model2.inference(views(inputs.image_u8), { processRes: 84, keepRays: true });
    expect(withRays.depth).toEqual(pred2.depth);
    expect(withRays.rays?.rays.length).toBe(3 * (56 / 14) * 8 * (84 / 14) * 8 * 6);
    expect(existsSync(join(dir, 'net-unposed-fp32-saddle_balanced.onnx'))).toBe(true);
    await model2.dispose();
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-') || f.endsWith('.partial') || f.endsWith('.lock'))).toEqual([]);
  });

  it('tells MONO from METRIC by the config names and rejects cameras for them', async () => {
    const files = { configPath: join(FIXTURES, 'tiny-mono', 'config.json'), weightsPath: join(FIXTURES, 'tiny-mono', 'model.safetensors') };
    const mono = DepthAnything3.fromFiles(files, { cacheDir }, raw);
    expect(mono.kind).toBe('mono');
    const metric = DepthAnything3.fromFiles(files, { cacheDir, kind: 'metric' }, raw);
    const inputs = await loadTensors('tiny-mono/mono/inputs.safetensors');
    const K = Float32Array.of(60, 0, 42, 0, 60, 28, 0, 0, 1);
    const p = await metric.inference(views(inputs.image_u8), { processRes: 84, intrinsics: [K] });
    expect(p.isMetric).toBe(true);
    await expect(mono.inference(views(inputs.image_u8), { processRes: 84, extrinsics: new Float32Array(16), intrinsics: [K] })).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    await mono.dispose();
    await metric.dispose();
  });

  it('keys the graph cache by the config too: an edited config.json beside the same weights converts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da3js-cfg-'));
    const cache = join(dir, 'cache');
    try {
      copyFileSync(join(FIXTURES, 'tiny', 'model.safetensors'), join(dir, 'model.safetensors'));
      const original = readFileSync(join(FIXTURES, 'tiny', 'config.json'), 'utf8');
      const files = { configPath: join(dir, 'config.json'), weightsPath: join(dir, 'model.safetensors') };
      const inputs = await loadTensors('tiny/multi/inputs.safetensors');
      const run = async (configText: string) => {
        writeFileSync(files.configPath, configText);
        const events: Da3ProgressEvent[] = [];
        const m = DepthAnything3.fromFiles(files, { cacheDir: cache, progress: (e) => events.push(e) }, raw);
        const p = await m.inference(views(inputs.image_u8), { processRes: 84 });
        await m.dispose();
        return { depth: p.depth, converted: events.some((e) => e.status === 'convert') };
      };
      const a = await run(original);
      expect(a.converted).toBe(true);
      // Other tapped layers: same tensors, another network.
      const edited = JSON.parse(original);
      edited.resolved.backbone.out_layers = [1, 2, 4, 5];
      const b = await run(JSON.stringify(edited));
      expect(b.converted).toBe(true);
      let maxDiff = 0;
      for (let i = 0; i < a.depth.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.depth[i] - b.depth[i]));
      expect(maxDiff).toBeGreaterThan(1e-3);
      expect(readdirSync(join(cache, 'graphs'))).toHaveLength(2);
      // Back to the original config: its graph is still cached, and gives the first depth again.
      const c = await run(original);
      expect(c.converted).toBe(false);
      expect(Array.from(c.depth)).toEqual(Array.from(a.depth));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports checkpoint tensors the model does not use (warning event or console.warn), and refuses them with strict', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da3js-extra-'));
    try {
      const tiny = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(FIXTURES, 'tiny', 'model.safetensors')))));
      const entries: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
      for (const name of tiny.names()) {
        const info = tiny.header.tensors.find((t) => t.name === name)!;
        entries[name] = { dtype: 'F32', shape: [...info.shape], data: await tiny.readFloat32(name) };
      }
      entries['model.backbone.pretrained.mask_token'] = { dtype: 'F32', shape: [1, 64], data: new Float32Array(64) };
      writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(entries, { ...tiny.metadata }));
      copyFileSync(join(FIXTURES, 'tiny', 'config.json'), join(dir, 'config.json'));

      const events: Da3ProgressEvent[] = [];
      const m = await DepthAnything3.fromPretrained(dir, { cacheDir, progress: (e) => events.push(e) });
      const warnings = events.filter((e) => e.status === 'warning') as { message: string }[];
      expect(warnings).toHaveLength(1);
      expect(warnings[0].message).toMatch(/1 tensor\(s\) not used by this model, ignored: model\.backbone\.pretrained\.mask_token/);
      await m.dispose();

      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        await (await DepthAnything3.fromPretrained(dir, { cacheDir })).dispose();
        expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^da3js: checkpoint: 1 tensor\(s\) not used/));
      } finally {
        warn.mockRestore();
      }
      await expect(DepthAnything3.fromPretrained(dir, { cacheDir, strict: true })).rejects.toMatchObject({ code: 'UNEXPECTED_TENSOR', message: expect.stringMatching(/mask_token/) });
      // The clean fixture loads strictly with no warning.
      const clean: Da3ProgressEvent[] = [];
      await (await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny'), { cacheDir, strict: true, progress: (e) => clean.push(e) })).dispose();
      expect(clean.filter((e) => e.status === 'warning')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a bad config clearly', () => {
    expect(() => DepthAnything3.fromFiles({ configPath: join(cacheDir, 'nope.json'), weightsPath: 'x' }, {}, raw)).toThrowError(/cannot read/);
  });

  it("remembers network time per model and device: the next run's network event carries an estimate (first-use conversions are not samples)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da3js-timings-'));
    try {
      const files = { configPath: join(FIXTURES, 'tiny', 'config.json'), weightsPath: join(FIXTURES, 'tiny', 'model.safetensors') };
      const inputs = await loadTensors('tiny/multi/inputs.safetensors');
      const estimates: (number | undefined)[] = [];
      const model = DepthAnything3.fromFiles(files, { cacheDir: dir, device: 'cpu' }, raw);
      const onProgress = (e: { stage: string; graphsDone?: number; estimatedMs?: number }) => {
        if (e.stage === 'network' && e.graphsDone === 0) estimates.push(e.estimatedMs);
      };
      await model.inference(views(inputs.image_u8), { processRes: 84, onProgress });
      expect(existsSync(join(dir, 'timings.json'))).toBe(false); // that run converted the graph
      await model.inference(views(inputs.image_u8), { processRes: 84, onProgress });
      const stored = JSON.parse(readFileSync(join(dir, 'timings.json'), 'utf8'));
      expect(Object.values(stored)).toHaveLength(1);
      const third = await model.inference(views(inputs.image_u8), { processRes: 84, onProgress });
      // Each run's estimate is the remembered ms per unit (views × patch tokens) × its units; twice
      // the side is 4× the tokens per view.
      const perUnit = (Object.values(stored)[0] as { msPerUnit: number }).msPerUnit;
      const units = third.views * (third.height / 14) * (third.width / 14);
      const before4th = (Object.values(JSON.parse(readFileSync(join(dir, 'timings.json'), 'utf8')))[0] as { msPerUnit: number }).msPerUnit;
      const fourth = await model.inference(views(inputs.image_u8), { processRes: 168, onProgress });
      expect(estimates[0]).toBeUndefined();
      expect(estimates[1]).toBeUndefined();
      expect(estimates[2]).toBe(Math.round(perUnit * units));
      expect(estimates[2]).toBeGreaterThan(0);
      const units4 = fourth.views * (fourth.height / 14) * (fourth.width / 14);
      expect(units4).toBeGreaterThan(3 * units);
      expect(estimates[3]).toBe(Math.round(before4th * units4));
      // A corrupt file only means no estimate.
      writeFileSync(join(dir, 'timings.json'), '{not json');
      await model.inference(views(inputs.image_u8), { processRes: 84, onProgress });
      expect(estimates[4]).toBeUndefined();
      await model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pipeline (transformers.js style)', () => {
  it("pipeline('depth-estimation', folder) returns what DepthAnything3.inference returns; unknown tasks are refused", async () => {
    const { pipeline } = await import('../src/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'da3js-pipeline-'));
    try {
      const events: string[] = [];
      const depth = await pipeline('depth-estimation', join(FIXTURES, 'tiny'), { cacheDir: dir, progress_callback: (e) => events.push(e.status) });
      expect(depth.task).toBe('depth-estimation');
      const inputs = await loadTensors('tiny/multi/inputs.safetensors');
      const outputs = await loadTensors('tiny/multi/outputs.safetensors');
      const pred = await depth(views(inputs.image_u8), { processRes: 84 });
      expectClose(pred.depth, outputs['out.depth'].data as Float32Array, { atol: 1e-4, rtol: 1e-4 }, 'depth');
      expect(typeof pred.export).toBe('function');
      expect(events).toContain('convert');
      await depth.dispose();
      await expect(pipeline('image-segmentation' as never, join(FIXTURES, 'tiny'))).rejects.toMatchObject({ code: 'BAD_VALUE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
