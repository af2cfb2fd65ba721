// node quant-attention.mjs node|wasm TOKENS RUNS — can int8 speed up attention itself? One DA3-SMALL
// attention (6 heads × 64, TOKENS = 865 for one 504×336 view, 3460 for global attention over 4)
// on random q, k, v [1, TOKENS, 384], one thread, CPU time: com.microsoft.MultiHeadAttention (what
// the graphs use), the same as plain MatMul–Softmax–MatMul, and with q·kᵀ on the integer GEMM
// (DynamicQuantizeLinear of q and k, uint8 × uint8 MatMulIntegerToFloat; the softmax and the
// product with v stay float32: the probabilities do not survive 8 bits). Error: relative RMS
// against MultiHeadAttention.
import { createRequire } from 'node:module';
import { encodeOnnxModel } from '@da3js/core';
import { median, report } from './common.mjs';

const rt = process.argv[2] ?? 'node';
const runs = Number(process.argv[4] ?? '15');
const require = createRequire(import.meta.url);
const ort = rt === 'wasm' ? require('onnxruntime-web') : require('onnxruntime-node');
if (rt === 'wasm') ort.env.wasm.numThreads = 1;
const options = rt === 'wasm' ? { executionProviders: ['wasm'], graphOptimizationLevel: 'all' } : { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
let seed = 7; const u = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };
const T = Number(process.argv[3] ?? 865), H = 6, D = 64, C = H * D;
const I = (v) => ({ type: 'int', value: v }), IS = (v) => ({ type: 'ints', value: v });
const i64 = (name, v) => ({ name, dataType: 'int64', dims: [v.length], load: () => new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer) });
const f32 = (name, v) => ({ name, dataType: 'float32', dims: [], load: () => new Uint8Array(Float32Array.of(v).buffer) });
const io = { inputs: ['q', 'k', 'v'].map((n) => ({ name: n, dataType: 'float32', shape: [1, T, C] })), outputs: [{ name: 'y', dataType: 'float32', shape: [1, T, C] }] };
const mk = (nodes, initializers) => ({ opsets: { '': 17, 'com.microsoft': 1 }, irVersion: 8, graph: { name: 'a', ...io, nodes, initializers } });
const mha = mk([{ opType: 'MultiHeadAttention', domain: 'com.microsoft', inputs: ['q', 'k', 'v'], outputs: ['y'], name: 'mha', attributes: { num_heads: I(H), scale: { type: 'float', value: D ** -0.5 } } }], []);
const heads = (x, perm) => [{ opType: 'Reshape', inputs: [x, 'shp'], outputs: [`${x}r`], name: `${x}r` }, { opType: 'Transpose', inputs: [`${x}r`], outputs: [`${x}h`], name: `${x}t`, attributes: { perm: IS(perm) } }];
const tail = [{ opType: 'Softmax', inputs: ['s'], outputs: ['p'], name: 'sm', attributes: { axis: I(-1) } }, { opType: 'MatMul', inputs: ['p', 'vh'], outputs: ['o'], name: 'pv' }, { opType: 'Transpose', inputs: ['o'], outputs: ['ot'], name: 'ot', attributes: { perm: IS([0, 2, 1, 3]) } }, { opType: 'Reshape', inputs: ['ot', 'back'], outputs: ['y'], name: 'yb' }];
const inits = [i64('shp', [1, T, H, D]), i64('back', [1, T, C]), f32('sc', D ** -0.5)];
const plain = mk([...heads('q', [0, 2, 1, 3]), ...heads('k', [0, 2, 3, 1]), ...heads('v', [0, 2, 1, 3]), { opType: 'MatMul', inputs: ['qh', 'kh'], outputs: ['s0'], name: 'qk' }, { opType: 'Mul', inputs: ['s0', 'sc'], outputs: ['s'], name: 'scale' }, ...tail], inits);
const int8 = mk([...heads('q', [0, 2, 1, 3]), ...heads('k', [0, 2, 3, 1]), ...heads('v', [0, 2, 1, 3]),
  { opType: 'DynamicQuantizeLinear', inputs: ['qh'], outputs: ['qq', 'qs', 'qz'], name: 'dq' }, { opType: 'DynamicQuantizeLinear', inputs: ['kh'], outputs: ['kq', 'ks', 'kz'], name: 'dk' },
  { opType: 'Mul', inputs: ['qs', 'sc'], outputs: ['qs2'], name: 'qs2' },
  { opType: 'MatMulIntegerToFloat', domain: 'com.microsoft', inputs: ['qq', 'kq', 'qs2', 'ks', 'qz', 'kz'], outputs: ['s'], name: 'qk' }, ...tail], inits);
const S = {}; for (const [n, m] of Object.entries({ mha, plain, int8 })) { try { S[n] = await ort.InferenceSession.create(await encodeOnnxModel(m), options); } catch (e) { console.log(n, e.message.slice(0, 300)); } }
const feeds = Object.fromEntries(['q', 'k', 'v'].map((n) => [n, new ort.Tensor('float32', Float32Array.from({ length: T * C }, () => 2 * u()), [1, T, C])]));
const out = {}; for (const k in S) out[k] = (await S[k].run(feeds)).y.data;
const cpu = Object.fromEntries(Object.keys(S).map((k) => [k, []]));
for (let r = 0; r < runs; r++) for (const k in S) { const c = process.cpuUsage(); await S[k].run(feeds); const x = process.cpuUsage(c); cpu[k].push((x.user + x.system) / 1000); }
const rows = Object.keys(S).map((k) => {
  let e = 0;
  let t = 0;
  for (let i = 0; i < out.mha.length; i++) {
    e += (out[k][i] - out.mha[i]) ** 2;
    t += out.mha[i] ** 2;
  }
  return { variant: k, cpuMs: Number(median(cpu[k]).toFixed(2)), cpuRatio: Number((median(cpu[k]) / median(cpu.mha)).toFixed(3)), relRmsError: Number(Math.sqrt(e / t).toExponential(2)) };
});
process.stderr.write(`quant-attention: ${rt} ${T} tokens: ${rows.map((r) => `${r.variant} ${r.cpuMs} ms (×MHA ${r.cpuRatio}, err ${r.relRmsError})`).join(' | ')}\n`);
report({ task: 'quant-attention', runtime: rt === 'wasm' ? 'node-wasm' : 'node-cpu', tokens: T, threads: 1, runs, rows });
