/**
 * Test helper: small synthetic Gaussian scenes and cameras for the rasterizer tests and the bench
 * (seeded, so every run renders the same pixels).
 */
import type { Gaussians, RenderCamera } from '@da3js/core';

/** mulberry32: a tiny seeded PRNG in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A pinhole camera at the origin looking down +z (identity extrinsics), principal point centred. */
export function frontCamera(width: number, height: number, focal = 0.9 * width): RenderCamera {
  return {
    extrinsics: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],
    intrinsics: [focal, 0, width / 2, 0, focal, height / 2, 0, 0, 1],
    width,
    height,
  };
}

/** A camera at `eye` looking at `target` (OpenCV axes, y down), as world→camera [R|t]. */
export function lookAtCamera(eye: [number, number, number], target: [number, number, number], width: number, height: number, focal = 0.9 * width): RenderCamera {
  const sub = (a: number[], b: number[]) => a.map((v, i) => v - b[i]);
  const norm = (a: number[]) => a.map((v) => v / Math.hypot(...a));
  const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const z = norm(sub(target, eye));
  const x = norm(cross(z, [0, -1, 0]));
  const y = cross(z, x);
  const t = [x, y, z].map((r) => -(r[0] * eye[0] + r[1] * eye[1] + r[2] * eye[2]));
  return {
    extrinsics: [...x, t[0], ...y, t[1], ...z, t[2]],
    intrinsics: [focal, 0, width / 2, 0, focal, height / 2, 0, 0, 1],
    width,
    height,
  };
}

/** Builds a `Gaussians` from plain arrays (rotations xyzw, harmonics [G, 3, K]). */
export function gaussians(init: { means: number[]; scales: number[]; rotations: number[]; opacities: number[]; harmonics: number[]; shCoefficients: number }): Gaussians {
  return {
    count: init.opacities.length,
    means: Float32Array.from(init.means),
    scales: Float32Array.from(init.scales),
    rotations: Float32Array.from(init.rotations),
    opacities: Float32Array.from(init.opacities),
    harmonics: Float32Array.from(init.harmonics),
    shCoefficients: init.shCoefficients,
  };
}

/**
 * `count` random Gaussians in a box in front of a camera at the origin (z in [1, 6]), random
 * anisotropic scales and rotations, opacities in [0.05, 1], SH of `degree` (DC in a visible range,
 * higher orders smaller). Some fall behind the near plane, outside the image or below 1/255
 * opacity, so culling is exercised too.
 */
export function randomScene(count: number, seed = 1, degree = 3, spread = 1): Gaussians {
  const r = rng(seed);
  const K = (degree + 1) ** 2;
  const means: number[] = [];
  const scales: number[] = [];
  const rotations: number[] = [];
  const opacities: number[] = [];
  const harmonics: number[] = [];
  for (let i = 0; i < count; i++) {
    const z = -0.2 + 6.5 * r();
    means.push((r() - 0.5) * 3 * spread * Math.max(z, 0.5), (r() - 0.5) * 2 * spread * Math.max(z, 0.5), z);
    const s = 0.01 + 0.12 * r() ** 2;
    scales.push(s * (0.3 + r()), s * (0.3 + r()), s * (0.3 + r()));
    const q = [r() - 0.5, r() - 0.5, r() - 0.5, r() - 0.5];
    const n = Math.hypot(...q) || 1;
    rotations.push(...q.map((v) => v / n));
    opacities.push(i % 53 === 0 ? 0.002 : 0.05 + 0.95 * r());
    for (let c = 0; c < 3; c++) for (let k = 0; k < K; k++) harmonics.push(k === 0 ? (r() - 0.5) * 3 : (r() - 0.5) * 0.6);
  }
  return gaussians({ means, scales, rotations, opacities, harmonics, shCoefficients: K });
}

/**
 * A depth-map-like scene of `w × h` Gaussians (one per pixel of a virtual view, like the GS head
 * makes): a wavy surface 2–4 units away, small splats, DC colours from the position, degree-2 SH.
 */
export function surfaceScene(w: number, h: number, seed = 7): Gaussians {
  const r = rng(seed);
  const K = 9;
  const n = w * h;
  const means = new Float32Array(3 * n);
  const scales = new Float32Array(3 * n);
  const rotations = new Float32Array(4 * n);
  const opacities = new Float32Array(n);
  const harmonics = new Float32Array(3 * K * n);
  const f = 0.9 * w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const z = 3 + 0.8 * Math.sin(x / 23) * Math.cos(y / 17) + 0.1 * r();
      means.set([((x + 0.5 - w / 2) * z) / f, ((y + 0.5 - h / 2) * z) / f, z], 3 * i);
      const s = (0.8 * z) / f;
      scales.set([s * (0.5 + r()), s * (0.5 + r()), s * 0.2], 3 * i);
      const q = [r() - 0.5, r() - 0.5, r() - 0.5, 1];
      const qn = Math.hypot(...q);
      rotations.set(q.map((v) => v / qn), 4 * i);
      opacities[i] = 0.3 + 0.7 * r();
      for (let c = 0; c < 3; c++) {
        harmonics[i * 3 * K + c * K] = Math.sin((x + 40 * c) / 30) + Math.cos(y / 25);
        for (let k = 1; k < K; k++) harmonics[i * 3 * K + c * K + k] = (r() - 0.5) * 0.2;
      }
    }
  }
  return { count: n, means, scales, rotations, opacities, harmonics, shCoefficients: K };
}
