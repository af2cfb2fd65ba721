import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OnnxModel, encodeOnnxModel } from '@da3js/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type DeviceInfo, createRunner } from '../src/runtime/index.js';

const dir = mkdtempSync(join(tmpdir(), 'da3js-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function tinyModel(): Promise<string> {
  const model: OnnxModel = {
    opsets: { '': 17 },
    graph: {
      name: 'double',
      inputs: [{ name: 'images', dataType: 'float32', shape: ['n'] }],
      outputs: [{ name: 'depth', dataType: 'float32', shape: ['n'] }],
      initializers: [{ name: 'two', dataType: 'float32', dims: [], load: () => new Uint8Array(Float32Array.of(2).buffer) }],
      nodes: [{ opType: 'Mul', inputs: ['images', 'two'], outputs: ['depth'] }],
    },
  };
  const path = join(dir, 'double.onnx');
  writeFileSync(path, await encodeOnnxModel(model));
  return path;
}

describe('createRunner (onnxruntime-node)', () => {
  it('auto falls back to the CPU on a machine without CUDA and says why', async () => {
    const seen: DeviceInfo[] = [];
    const runner = await createRunner(await tinyModel(), { device: 'auto', onDevice: (d) => seen.push(d) });
    expect(runner.device.device).toBe(process.env.DA3_EXPECT_CUDA === '1' ? 'cuda' : 'cpu');
    if (runner.device.device === 'cpu') expect(runner.device.fallbackReason).toMatch(/\S/);
    expect(seen).toEqual([runner.device]);
    const out = await runner.run({ images: { data: Float32Array.of(1, 2.5), shape: [2] } });
    expect(Array.from(out.depth.data as Float32Array)).toEqual([2, 5]);
    await runner.dispose();
  });

  it('cpu never touches CUDA; cuda without CUDA is a typed error; unknown devices are rejected', async () => {
    const path = await tinyModel();
    const cpu = await createRunner(path, { device: 'cpu', threads: 1 });
    expect(cpu.device).toEqual({ device: 'cpu' });
    await cpu.dispose();
    if (process.env.DA3_EXPECT_CUDA !== '1') {
      await expect(createRunner(path, { device: 'cuda' })).rejects.toMatchObject({ code: 'IO', message: /CUDA execution provider is not available/ });
    }
    await expect(createRunner(path, { device: 'tpu' as never })).rejects.toMatchObject({ code: 'BAD_VALUE' });
    await expect(createRunner(join(dir, 'missing.onnx'), { device: 'cpu' })).rejects.toMatchObject({ code: 'IO' });
  });

  it('serialises concurrent runs on one session', async () => {
    const runner = await createRunner(await tinyModel(), { device: 'cpu' });
    const outs = await Promise.all([1, 2, 3].map((v) => runner.run({ images: { data: Float32Array.of(v), shape: [1] } })));
    expect(outs.map((o) => (o.depth.data as Float32Array)[0])).toEqual([2, 4, 6]);
    await runner.dispose();
  });
});
