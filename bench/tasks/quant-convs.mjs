// node quant-convs.mjs RUNS — does int8 pay for the DPT head's convolutions on this CPU? The head's
// largest DA3-SMALL convolutions at 504×336 (refinenet1's 3×3 64→64 at 144×96, output_conv1's 3×3
// 64→32 at 288×192, output_conv2's 3×3 32→32 at 336×504; a 1×1 384→64 projection at the patch
// grid) as fp32 Conv + bias against the dynamic int8 form onnxruntime offers without calibration
// data: DynamicQuantizeLinear → ConvInteger (weights as uint8 around 128, or int8; 7-bit codes,
// one scale per output channel) → Cast → Mul by the scales → Add the bias. One thread, runs
// interleaved, process CPU time relative to fp32, and the RMS error relative to fp32's output.
import { encodeOnnxModel } from '@da3js/core';
import * as ort from 'onnxruntime-node';
import { median, report } from './common.mjs';

const runs = Number(process.argv[2] ?? '7');
const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
let seed = 3; const r = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };
const opts = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
const I = (v) => ({ type: 'int', value: v }), IS = (v) => ({ type: 'ints', value: v });
async function bench(C, O, H, W, k) {
  const w = Float32Array.from({ length: O * C * k * k }, () => r() / Math.sqrt(C * k * k));
  const b = Float32Array.from({ length: O }, () => r() / 10);
  const x = Float32Array.from({ length: C * H * W }, () => Math.max(0, r() * 3));
  const pads = IS(Array(4).fill((k - 1) / 2));
  const scale = new Float32Array(O); const q = new Int8Array(w.length); const per = C * k * k;
  for (let o = 0; o < O; o++) { let m = 0; for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(w[o * per + i])); scale[o] = m / 63; for (let i = 0; i < per; i++) q[o * per + i] = Math.round(w[o * per + i] / scale[o]); }
  const qu = Uint8Array.from(q, (v) => v + 128);
  const base = (nodes, inits) => ({ opsets: { '': 17, 'com.microsoft': 1 }, irVersion: 8, graph: { name: 'c', inputs: [{ name: 'x', dataType: 'float32', shape: [1, C, H, W] }], outputs: [{ name: 'y', dataType: 'float32', shape: [1, O, H, W] }], nodes, initializers: inits } });
  const fp = base([{ opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], name: 'c', attributes: { pads } }], [
    { name: 'w', dataType: 'float32', dims: [O, C, k, k], load: () => bytesOf(w) }, { name: 'b', dataType: 'float32', dims: [O], load: () => bytesOf(b) }]);
  const dyn = (unsigned) => base([
    { opType: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'xs', 'xz'], name: 'dq' },
    { opType: 'ConvInteger', inputs: ['xq', 'wq', 'xz', ...(unsigned ? ['wz'] : [])], outputs: ['yi'], name: 'ci', attributes: { pads } },
    { opType: 'Cast', inputs: ['yi'], outputs: ['yf'], name: 'cast', attributes: { to: I(1) } },
    { opType: 'Mul', inputs: ['xs', 'ws'], outputs: ['s'], name: 'ms' },
    { opType: 'Mul', inputs: ['yf', 's'], outputs: ['ys'], name: 'm' },
    { opType: 'Add', inputs: ['ys', 'b'], outputs: ['y'], name: 'a' },
  ], [
    unsigned ? { name: 'wq', dataType: 'uint8', dims: [O, C, k, k], load: () => qu } : { name: 'wq', dataType: 'int8', dims: [O, C, k, k], load: () => bytesOf(q) },
    ...(unsigned ? [{ name: 'wz', dataType: 'uint8', dims: [], load: () => new Uint8Array([128]) }] : []),
    { name: 'ws', dataType: 'float32', dims: [O, 1, 1], load: () => bytesOf(scale) }, { name: 'b', dataType: 'float32', dims: [O, 1, 1], load: () => bytesOf(b) }]);
  const models = { fp32: fp, 'convint-u8': dyn(true), 'convint-s8': dyn(false) };
  const s = {}; for (const [n, m] of Object.entries(models)) { try { s[n] = await ort.InferenceSession.create(await encodeOnnxModel(m), opts); } catch (e) { console.log(n, e.message.slice(0, 200)); } }
  const feeds = { x: new ort.Tensor('float32', x, [1, C, H, W]) };
  const out = {}; for (const n in s) out[n] = (await s[n].run(feeds)).y.data;
  const cpu = Object.fromEntries(Object.keys(s).map((n) => [n, []]));
  for (let i = 0; i < runs; i++) for (const n in s) { const c = process.cpuUsage(); await s[n].run(feeds); const u = process.cpuUsage(c); cpu[n].push((u.user + u.system) / 1000); }
  for (const n in s) await s[n].release();
  const rows = Object.keys(s).map((n) => {
    let e = 0;
    let t = 0;
    for (let i = 0; i < out.fp32.length; i++) {
      e += (out[n][i] - out.fp32[i]) ** 2;
      t += out.fp32[i] ** 2;
    }
    return { variant: n, conv: `${C}→${O} ${k}×${k} at ${H}×${W}`, cpuMs: Number(median(cpu[n]).toFixed(2)), cpuRatio: Number((median(cpu[n]) / median(cpu.fp32)).toFixed(3)), relRmsError: Number(Math.sqrt(e / t).toExponential(2)) };
  });
  process.stderr.write(`quant-convs: ${rows.map((r) => `${r.conv} ${r.variant} ${r.cpuMs} ms (×fp32 ${r.cpuRatio}, err ${r.relRmsError})`).join('\n  ')}\n`);
  return rows;
}
const rows = [...(await bench(64, 64, 144, 96, 3)), ...(await bench(64, 32, 288, 192, 3)), ...(await bench(32, 32, 336, 504, 3)), ...(await bench(384, 64, 24, 36, 1))];
report({ task: 'quant-convs', runtime: 'node-cpu', threads: 1, runs, rows });
