// node session.mjs MODEL.onnx THREADS [REPS] — session start of @da3js/node's CPU runner: plain
// (onnxruntime optimises the graph at every start) versus `cacheOptimizedGraph` (the optimised
// graph saved once beside the model and loaded on later starts). Wall and CPU ms, medians.
import { rmSync } from 'node:fs';
import { createRunner, optimizedGraphPath } from '@da3js/node';
import { median, report } from './common.mjs';

const [model, threads = '2', reps = '3'] = process.argv.slice(2);
async function start(cacheOptimizedGraph) {
  const c0 = process.cpuUsage();
  const t = performance.now();
  const runner = await createRunner(model, { device: 'cpu', threads: Number(threads), cacheOptimizedGraph });
  const wall = performance.now() - t;
  const c = process.cpuUsage(c0);
  await runner.dispose();
  return { wall, cpu: (c.user + c.system) / 1000 };
}
const opt = optimizedGraphPath(model);
const clear = () => {
  for (const p of [opt, `${opt}.data`]) rmSync(p, { force: true });
};
clear();
const save = await start(true); // optimises, then writes the copy
const plain = [];
const cached = [];
for (let r = 0; r < Number(reps); r++) {
  plain.push(await start(false));
  cached.push(await start(true));
}
clear();
const m = (xs, k) => Math.round(median(xs.map((x) => x[k])));
report({ task: 'session', model: model.split('/').pop(), threads: Number(threads), plainMs: m(plain, 'wall'), plainCpuMs: m(plain, 'cpu'), cachedMs: m(cached, 'wall'), cachedCpuMs: m(cached, 'cpu'), firstWithSaveMs: Math.round(save.wall) });
