// node rasterize.mjs THREADS FRAMES [heavy] — render a DA3-size Gaussian scene (one 504×336 view →
// 169,344 Gaussians, SH degree 2, see gs-scene.mjs) at 504×336, 'RGB+ED', along a gs_video-like
// wander path (`heavy`: splats 2.5× larger, opacities 0.6–0.98: ~66 blended and ~190 visited
// Gaussians per pixel instead of ~40), with @da3js/node's worker-thread CPU rasterizer (THREADS workers) or, with
// THREADS = 0, core's single-threaded one. Reports median / mean frame time, frames per second,
// the process CPU time per frame (all threads), the load average while it ran, and fpsCpuBound =
// 1000 / (cpuMsPerFrame / max(1, THREADS)): the rate when each thread has a core to itself. On a
// shared machine other processes (other cgroups: nice does not help) take CPU, and the wall time
// (fps) drops while the CPU time per frame does not.
import { loadavg } from 'node:os';
import { createCpuRasterizer } from '@da3js/core';
import { createNodeCpuRasterizer } from '@da3js/node';
import { median, peakRssMiB, report } from './common.mjs';
import { SOURCE, makeScene, wanderCamera } from './gs-scene.mjs';

const [threadsArg = '2', framesArg = '20', variant = 'da3'] = process.argv.slice(2);
const threads = Number(threadsArg);
const frames = Number(framesArg);
const heavy = variant === 'heavy';
const scene = heavy ? makeScene({ splatScale: 2.5, minOpacity: 0.6 }) : makeScene();
const raster = threads === 0 ? createCpuRasterizer() : createNodeCpuRasterizer({ threads });
const options = { renderMode: 'RGB+ED' };
try {
  for (let i = 0; i < 2; i++) await raster.render(scene, wanderCamera(i / 7), options); // warm-up (workers, JIT)
  const times = [];
  let coverage = 0;
  const load0 = loadavg()[0];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let f = 0; f < frames; f++) {
    const cam = wanderCamera(f / frames);
    const s = performance.now();
    const img = await raster.render(scene, cam, options);
    times.push(performance.now() - s);
    if (f === 0) coverage = img.alpha.reduce((a, b) => a + b, 0) / img.alpha.length;
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const med = median(times);
  report({
    task: 'rasterize',
    runtime: threads === 0 ? 'core-cpu (1 thread)' : `node-cpu-workers (${threads} threads)`,
    scene: heavy ? 'synthetic DA3 view, heavy (2.5× splats, opacity ≥ 0.6)' : 'synthetic DA3 view (σ 0.4–1.6 px, opacity 0.3–0.98)',
    gaussians: scene.count,
    width: SOURCE.width,
    height: SOURCE.height,
    renderMode: 'RGB+ED',
    shDegree: 2,
    frames,
    medianMs: +med.toFixed(1),
    meanMs: +(wall / frames).toFixed(1),
    fps: +(1000 / med).toFixed(2),
    cpuMsPerFrame: +((cpu.user + cpu.system) / 1000 / frames).toFixed(1),
    fpsCpuBound: +(1000 / ((cpu.user + cpu.system) / 1000 / frames / Math.max(1, threads))).toFixed(2),
    meanCoverage: +coverage.toFixed(3),
    loadAvg1m: [+load0.toFixed(2), +loadavg()[0].toFixed(2)],
    peakRssMiB: peakRssMiB(),
  });
} finally {
  await raster.dispose();
}
