// node ab.mjs N H W ROUNDS model1.onnx model2.onnx ... — interleaved A/B with GEMM ceiling per round
import * as ort from 'onnxruntime-node';
import { gemmSession } from './gemm.mjs';
import { networkGflop } from './flops.mjs';
import { VARIANTS } from '@da3js/core';
const [n, h, w, rounds, ...models] = process.argv.slice(2);
const [N,H,W]=[+n,+h,+w];
const gf = networkGflop(VARIANTS['DA3-SMALL'].config, N, H, W);
const opts = { executionProviders:['cpu'], intraOpNumThreads:2, interOpNumThreads:1, graphOptimizationLevel:'all', ...(process.env.NOSPIN?{extra:{session:{intra_op:{allow_spinning:'0'}}}}:{}) };
const sessions = [];
for (const m0 of models) { const [m, flag] = m0.split(':'); if (flag==='noflash') process.env.ORT_DISABLE_FLASH_ATTENTION='1'; else delete process.env.ORT_DISABLE_FLASH_ATTENTION; sessions.push(await ort.InferenceSession.create(m, { ...opts, ...(flag==='nomempat'?{enableMemPattern:false}:{}) })); }
const data = new Float32Array(N*3*H*W); let x=1; for (let i=0;i<data.length;i++){x=(x*1664525+1013904223)>>>0; data[i]=(x/2**32)*4-2;}
const feeds={images:new ort.Tensor('float32',data,[1,N,3,H,W])};
const outs=[]; const gfOf=(s)=>s.outputNames.includes('ray')?gf:networkGflop(VARIANTS['DA3-SMALL'].config, N, H, W, {rays:false});
for (const s of sessions) outs.push(await s.run(feeds));
// max rel diff of depth between models vs first
for (let k=1;k<outs.length;k++){ for (const name of Object.keys(outs[0]).filter((n)=>outs[k][n])) { const a=outs[0][name].data,b=outs[k][name].data; let m=0,ma=0; for(let i=0;i<a.length;i++){m=Math.max(m,Math.abs(a[i]-b[i])); ma=Math.max(ma,Math.abs(a[i]));} console.log(`model${k} vs 0 ${name}: max|d| ${m.toExponential(2)} (max|a| ${ma.toExponential(2)})`);} }
const gemm = await gemmSession(2);
const cpu = models.map(()=>[]); const times = models.map(()=>[]), ratios = models.map(()=>[]), ceil=[];
for (let r=0;r<+rounds;r++){
  const gt = await gemm.time(3); const rate = gemm.gflop/gt; ceil.push(rate*1000);
  for (let k=0;k<sessions.length;k++){ const c0=process.cpuUsage(); const t=performance.now(); await sessions[k].run(feeds); const ms=performance.now()-t; const c=process.cpuUsage(c0); cpu[k].push((c.user+c.system)/1000); times[k].push(ms); ratios[k].push(ms/(gf/rate));  }
}
const med=(xs)=>{const s=[...xs].sort((a,b)=>a-b);const m=s.length>>1;return s.length%2?s[m]:(s[m-1]+s[m])/2;};
console.log(`ceiling GFLOP/s median ${med(ceil).toFixed(0)} [${Math.min(...ceil).toFixed(0)}..${Math.max(...ceil).toFixed(0)}], graph ${gf.toFixed(2)} GFLOP`);
for (let k=0;k<models.length;k++) console.log(models[k].split('/').pop().padEnd(24), 'median', med(times[k]).toFixed(0), 'min', Math.min(...times[k]).toFixed(0), 'ratio med', med(ratios[k]).toFixed(3), 'ratio min', Math.min(...ratios[k]).toFixed(3), 'cpu med', med(cpu[k]).toFixed(0), 'cpu min', Math.min(...cpu[k]).toFixed(0));
