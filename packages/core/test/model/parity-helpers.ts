import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointWeights, SafetensorsFile, memoryByteSource } from '@da3js/core';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { FIXTURES, type FixtureTensor, loadJson, loadTensors } from '../helpers/fixtures.js';

/** Network tolerance of the fixtures README §5: |a−b| ≤ 1e-4 + 1e-4·|b|. */
export const NET_TOL = { atol: 1e-4, rtol: 1e-4 };

/** The weights of a fixture model folder (`tiny`, `tiny-mono`). */
export async function fixtureWeights(model: string, prefix = 'model.'): Promise<CheckpointWeights> {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, model, 'model.safetensors')));
  return new CheckpointWeights(await SafetensorsFile.open(memoryByteSource(bytes)), prefix);
}

/** Inputs, outputs and case.json of one fixture case, with `same_values_as` resolved. */
export async function fixtureCase(model: string, name: string) {
  const inputs = await loadTensors(`${model}/${name}/inputs.safetensors`);
  const outputs = await loadTensors(`${model}/${name}/outputs.safetensors`);
  const meta = loadJson<{ outputs: Record<string, { shape: number[]; same_values_as?: string }>; meta?: Record<string, unknown> }>(
    `${model}/${name}/case.json`,
  );
  for (const [key, info] of Object.entries(meta.outputs)) {
    if (outputs[key] || !info.same_values_as) continue;
    const src = info.same_values_as.startsWith('inputs:') ? inputs[info.same_values_as.slice(7)] : outputs[info.same_values_as];
    if (src) outputs[key] = { ...src, shape: info.shape } as FixtureTensor;
  }
  return { inputs, outputs, meta };
}

/** Runs an ONNX model (bytes) on float32 feeds and returns every output. */
export async function runModel(bytes: Uint8Array, feeds: Record<string, FixtureTensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor('float32', t.data as Float32Array, t.shape);
    return await session.run(ortFeeds);
  } finally {
    await session.release();
  }
}

/** Compares every graph output that the fixture also has; returns the compared names and their max |d|. */
export function compareOutputs(got: Record<string, ort.Tensor>, want: Record<string, FixtureTensor>, names: readonly string[]): Record<string, number> {
  const report: Record<string, number> = {};
  for (const name of names) {
    const g = got[name];
    const w = want[name];
    expect(g, `graph output ${name}`).toBeDefined();
    expect(w, `fixture tensor ${name}`).toBeDefined();
    const gd = g.data as Float32Array | BigInt64Array;
    const gv = gd instanceof BigInt64Array ? Float64Array.from(gd, Number) : gd;
    const wd = w.data instanceof BigInt64Array ? Float64Array.from(w.data, Number) : (w.data as Float32Array);
    expect(gv.length, `${name} size (graph dims ${g.dims})`).toBe(wd.length);
    expectClose(gv, wd, NET_TOL, name);
    let m = 0;
    for (let i = 0; i < wd.length; i++) m = Math.max(m, Math.abs(gv[i] - wd[i]));
    report[name] = m;
  }
  return report;
}
