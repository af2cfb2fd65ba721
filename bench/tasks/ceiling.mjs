// node ceiling.mjs THREADS [RUNS] — the fp32 GEMM ceiling on its own: a 2048³ MatMul through
// onnxruntime-node (gemm.mjs) on THREADS intra-op threads; median and best GFLOP/s over RUNS
// rounds (each the best of 3). infer.mjs measures it again inside its own loop for the ratios.
import { gemmSession } from './gemm.mjs';
import { median, report } from './common.mjs';

const [threads = '2', runs = '10'] = process.argv.slice(2);
const gemm = await gemmSession(Number(threads));
const rates = [];
for (let r = 0; r < Number(runs); r++) rates.push((gemm.gflop / (await gemm.time(3))) * 1000);
await gemm.release();
report({ task: 'ceiling', op: 'MatMul 2048×2048×2048 fp32 (onnxruntime-node, MLAS)', threads: Number(threads), gflop: gemm.gflop, medianGflops: Math.round(median(rates)), maxGflops: Math.round(Math.max(...rates)), minGflops: Math.round(Math.min(...rates)) });
