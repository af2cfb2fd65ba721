#!/usr/bin/env node
// Renders the bundled example scene (examples/scene/*.png): a small ray-traced still life —
// a checkered floor, a back wall, two boxes and a sphere — seen from four viewpoints, so the
// demo has real multi-view input without shipping third-party photos. Deterministic.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const W = 320;
const H = 240;
const out = join(new URL('..', import.meta.url).pathname, 'examples', 'scene');
mkdirSync(out, { recursive: true });

const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const add = (a, b) => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const mul = (a, s) => [a[0] * s, a[1] * s, a[2] * s];
const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a) => mul(a, 1 / Math.hypot(...a));

// Objects: planes (y = 0 floor, z = 3 wall), axis-aligned boxes, a sphere. y is up here.
const boxes = [
  { min: [-1.2, 0, 0.2], max: [-0.4, 0.8, 1.0], color: [200, 60, 50] },
  { min: [0.5, 0, -0.4], max: [1.1, 0.5, 0.2], color: [60, 120, 210] },
];
const sphere = { c: [0.2, 0.45, 1.2], r: 0.45, color: [230, 190, 60] };
const light = norm([-0.5, 1, -0.7]);

function hitBox(o, d, b) {
  let t0 = -Infinity;
  let t1 = Infinity;
  let axis = 0;
  for (let i = 0; i < 3; i++) {
    const inv = 1 / d[i];
    let a = (b.min[i] - o[i]) * inv;
    let c = (b.max[i] - o[i]) * inv;
    if (a > c) [a, c] = [c, a];
    if (a > t0) {
      t0 = a;
      axis = i;
    }
    t1 = Math.min(t1, c);
  }
  if (t0 > t1 || t0 < 1e-4) return null;
  const n = [0, 0, 0];
  n[axis] = -Math.sign(d[axis]);
  return { t: t0, n, color: b.color };
}

function trace(o, d) {
  let best = null;
  const consider = (h) => {
    if (h && (!best || h.t < best.t)) best = h;
  };
  if (d[1] < 0) {
    const t = -o[1] / d[1];
    const p = add(o, mul(d, t));
    const check = (Math.floor(p[0] * 2) + Math.floor(p[2] * 2)) & 1;
    consider({ t, n: [0, 1, 0], color: check ? [235, 235, 225] : [70, 80, 70] });
  }
  if (d[2] > 0) {
    const t = (3 - o[2]) / d[2];
    const p = add(o, mul(d, t));
    const stripe = Math.floor(p[1] * 3) & 1;
    consider({ t, n: [0, 0, -1], color: stripe ? [170, 150, 200] : [120, 110, 160] });
  }
  for (const b of boxes) consider(hitBox(o, d, b));
  const oc = sub(o, sphere.c);
  const bq = dot(oc, d);
  const disc = bq * bq - (dot(oc, oc) - sphere.r * sphere.r);
  if (disc > 0) {
    const t = -bq - Math.sqrt(disc);
    if (t > 1e-4) consider({ t, n: norm(sub(add(o, mul(d, t)), sphere.c)), color: sphere.color });
  }
  if (!best) return [150, 190, 230];
  const p = add(o, mul(d, best.t));
  let shade = 0.35 + 0.65 * Math.max(0, dot(best.n, light));
  const shadowOrigin = add(p, mul(best.n, 1e-3));
  for (const b of boxes) if (hitBox(shadowOrigin, light, b)) shade = 0.35;
  return best.color.map((c) => Math.min(255, Math.round(c * shade)));
}

const views = [
  [-2.2, 1.6, -2.4],
  [-0.8, 1.7, -2.9],
  [0.8, 1.6, -2.8],
  [2.1, 1.5, -2.2],
];
const target = [0, 0.4, 0.6];
for (const [i, eye] of views.entries()) {
  const f = norm(sub(target, eye));
  const r = norm(cross([0, 1, 0], f));
  const u = cross(f, r);
  const focal = 0.9 * W;
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const d = norm(add(add(mul(r, (x + 0.5 - W / 2) / focal), mul(u, -(y + 0.5 - H / 2) / focal)), f));
      px.set(trace(eye, d), (y * W + x) * 3);
    }
  }
  await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png({ compressionLevel: 9 }).toFile(join(out, `view${i}.png`));
}
console.log(`rendered ${views.length} views into ${out}`);
