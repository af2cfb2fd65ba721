// Shared by rasterize-webgpu.mjs (Node on Dawn) and its Chromium page: times WebGPU rasterizer
// frames of the bench scenes. Runtime-free (no Node or DOM imports), so the page bundles it.
import { makeScene, wanderCamera } from './gs-scene.mjs';

/**
 * The tiny-giant fixture's Gaussians (7056, SH degree 2) as core `Gaussians`, from the tensors of
 * `fixtures/tiny-giant/multi` (rotations stored wxyz there → xyzw), and its first camera.
 */
export function tinyGiantScene(t) {
  const wxyz = t.rotations;
  const rotations = new Float32Array(wxyz.length);
  for (let i = 0; i < wxyz.length; i += 4) rotations.set([wxyz[i + 1], wxyz[i + 2], wxyz[i + 3], wxyz[i]], i);
  return { count: t.opacities.length, means: t.means, scales: t.scales, rotations, harmonics: t.harmonics, shCoefficients: 9, opacities: t.opacities };
}

/** Camera `view` of the fixture (extrinsics [N,3,4], intrinsics [N,3,3] at w×h), scaled to `scale`× the size. */
export function fixtureCamera(t, view, scale = 1) {
  const k = Array.from(t.intrinsics.subarray(9 * view, 9 * view + 9));
  for (const i of [0, 2, 4, 5]) k[i] *= scale;
  return { extrinsics: Array.from(t.extrinsics.subarray(12 * view, 12 * view + 12)), intrinsics: k, width: t.width * scale, height: t.height * scale };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Times `frames` renders (after 2 warm-ups: pipeline compilation, first upload) of each bench
 * scene with `raster`: the tiny-giant fixture at its processed size (42×56) and at 6× (252×336), and the
 * 169,344-Gaussian scene of gs-scene.mjs at 504×336 along the wander path. 'RGB+ED' throughout.
 */
export async function timeWebGpuFrames(raster, tiny, frames) {
  const options = { renderMode: 'RGB+ED' };
  const tinyScene = tinyGiantScene(tiny);
  const big = makeScene();
  const jobs = [
    { scene: 'tiny-giant', gaussians: tinyScene, camera: () => fixtureCamera(tiny, 0) },
    { scene: 'tiny-giant', gaussians: tinyScene, camera: () => fixtureCamera(tiny, 0, 6) },
    { scene: 'gs-scene 504×336 view', gaussians: big, camera: (f) => wanderCamera(f / frames) },
  ];
  const out = [];
  for (const job of jobs) {
    for (let i = 0; i < 2; i++) await raster.render(job.gaussians, job.camera(i), options);
    const times = [];
    let coverage = 0;
    for (let f = 0; f < frames; f++) {
      const cam = job.camera(f);
      const t = performance.now();
      const img = await raster.render(job.gaussians, cam, options);
      times.push(performance.now() - t);
      if (f === 0) coverage = img.alpha.reduce((a, b) => a + b, 0) / img.alpha.length;
    }
    const cam = job.camera(0);
    const med = median(times);
    out.push({ scene: job.scene, gaussians: job.gaussians.count, width: cam.width, height: cam.height, frames, medianMs: +med.toFixed(1), minMs: +Math.min(...times).toFixed(1), fps: +(1000 / med).toFixed(2), meanCoverage: +coverage.toFixed(3) });
  }
  return out;
}
