import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OnnxInitializer, type OnnxModel, encodeOnnxModel, writeOnnxModel } from '@da3js/core';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';

const f32 = (name: string, dims: number[], values: number[]): OnnxInitializer => ({
  name,
  dataType: 'float32',
  dims,
  load: () => new Uint8Array(Float32Array.from(values).buffer),
});

/** y = x · W + b with a dynamic batch, plus a Gemm-free Relu, and metadata. */
function model(weights: number[]): OnnxModel {
  return {
    opsets: { '': 17 },
    metadata: { 'da3js.test': 'yes' },
    graph: {
      name: 'tiny',
      inputs: [{ name: 'x', dataType: 'float32', shape: ['batch', 4] }],
      outputs: [{ name: 'y', dataType: 'float32', shape: ['batch', 2] }],
      initializers: [f32('W', [4, 2], weights), f32('b', [2], [0.5, -0.5])],
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
        { opType: 'Add', inputs: ['xw', 'b'], outputs: ['pre'] },
        { opType: 'LeakyRelu', inputs: ['pre'], outputs: ['y'], attributes: { alpha: { type: 'float', value: 0.25 } } },
      ],
    },
  };
}

const W = [1, 2, 3, 4, 5, 6, 7, 8];
const x = Float32Array.from([1, 0, -1, 2, 0.5, 0.5, 0.5, 0.5]);
function expected(): number[] {
  const out: number[] = [];
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 2; c++) {
      let s = c === 0 ? 0.5 : -0.5;
      for (let k = 0; k < 4; k++) s += x[r * 4 + k] * W[k * 2 + c];
      out.push(s > 0 ? s : 0.25 * s);
    }
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'da3js-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ONNX writer', () => {
  it('writes a model onnxruntime runs, with attributes, dynamic dims and metadata', async () => {
    const bytes = await encodeOnnxModel(model(W));
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float32', x, [2, 4]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual(expected());
    expect(session.inputNames).toEqual(['x']);
    await session.release();
  });

  it('streams initializers to an external data file that onnxruntime loads', async () => {
    const chunks: Uint8Array[] = [];
    const dataChunks: Uint8Array[] = [];
    let closed = 0;
    await writeOnnxModel(model(W), { write: (c) => void chunks.push(c.slice()), close: () => void closed++ }, {
      externalData: { sink: { write: (c) => void dataChunks.push(c.slice()), close: () => void closed++ }, location: 'tiny.onnx.data', threshold: 0 },
    });
    expect(closed).toBe(2);
    writeFileSync(join(dir, 'tiny.onnx'), Buffer.concat(chunks));
    writeFileSync(join(dir, 'tiny.onnx.data'), Buffer.concat(dataChunks));
    expect(readFileSync(join(dir, 'tiny.onnx.data')).byteLength).toBe(40);
    const session = await ort.InferenceSession.create(join(dir, 'tiny.onnx'));
    const out = await session.run({ x: new ort.Tensor('float32', x, [2, 4]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual(expected());
    await session.release();
  });

  it('rejects an initializer whose bytes do not match its dims, aborting both sinks', async () => {
    const bad = model(W);
    const broken: OnnxModel = { ...bad, graph: { ...bad.graph, initializers: [f32('W', [4, 2], [1, 2, 3]), bad.graph.initializers[1]] } };
    let aborted = 0;
    await expect(
      writeOnnxModel(broken, { write: () => {}, abort: () => void aborted++ }, { externalData: { sink: { write: () => {}, abort: () => void aborted++ }, location: 'x' } }),
    ).rejects.toMatchObject({ code: 'BAD_SHAPE' });
    expect(aborted).toBe(2);
  });

  it('rejects duplicate initializer names', async () => {
    const m = model(W);
    const dup: OnnxModel = { ...m, graph: { ...m.graph, initializers: [...m.graph.initializers, m.graph.initializers[0]] } };
    await expect(encodeOnnxModel(dup)).rejects.toMatchObject({ code: 'BAD_VALUE' });
  });
});
