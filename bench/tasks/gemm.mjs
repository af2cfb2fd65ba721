// The fp32 GEMM ceiling of this machine as onnxruntime sees it: one large MatMul (MLAS sgemm) in an
// onnxruntime-node session on the same intra-op threads as the model. `ceiling.mjs` reports it on
// its own; `infer.mjs` interleaves it with the model's runs so the ratio model / ceiling is taken
// in the same period (the machine is shared: absolute times drift, the ratio much less).
import { encodeOnnxModel } from '@da3js/core';
import * as ort from 'onnxruntime-node';

/** Side of the square MatMul: 2048³ = 17.2 GFLOP, ~0.1 s at 2 threads. */
export const GEMM_SIZE = 2048;

/**
 * A session computing `A · B` (A fed, B an initializer), both `size`×`size` fp32.
 * @returns `{ gflop, time(repeats) }`: `time` runs the MatMul `repeats` times and returns the
 *   fastest, in ms (the rate the machine attains in that period)
 */
export async function gemmSession(threads, size = GEMM_SIZE) {
  const fill = (n, seed) => {
    const a = new Float32Array(n);
    let s = seed;
    for (let i = 0; i < n; i++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      a[i] = s / 2 ** 32 - 0.5;
    }
    return a;
  };
  const b = fill(size * size, 2);
  const model = {
    opsets: { '': 17 },
    irVersion: 8,
    producerName: 'da3js-bench',
    graph: {
      name: 'gemm',
      nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['c'], name: 'gemm' }],
      inputs: [{ name: 'a', dataType: 'float32', shape: [size, size] }],
      outputs: [{ name: 'c', dataType: 'float32', shape: [size, size] }],
      initializers: [{ name: 'b', dataType: 'float32', dims: [size, size], load: () => new Uint8Array(b.buffer) }],
    },
  };
  const session = await ort.InferenceSession.create(await encodeOnnxModel(model), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const feeds = { a: new ort.Tensor('float32', fill(size * size, 1), [size, size]) };
  await session.run(feeds);
  return {
    gflop: (2 * size ** 3) / 1e9,
    async time(repeats = 3) {
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < repeats; r++) {
        const t = performance.now();
        await session.run(feeds);
        best = Math.min(best, performance.now() - t);
      }
      return best;
    },
    release: () => session.release(),
  };
}
