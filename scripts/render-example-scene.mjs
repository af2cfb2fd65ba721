#!/usr/bin/env node
// Renders the bundled example scene (examples/scene/*.png): a small ray-traced still life —
// a checkered floor, a back wall, two boxes and a sphere — seen from four viewpoints, so the
// demo has real multi-view input without shipping third-party photos. Deterministic.
//
// `--path N [--size WxH] [--out DIR]` renders N frames of a camera path sweeping around the scene
// instead (frame_000000.png …, plus cameras.json with each frame's ground-truth world→camera
// 3×4 and intrinsics), the synthetic sequence the streaming tests and demos use (300 frames:
// `--path 300`). The module also exports `renderView` and `cameraPath` for tests (no sharp needed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const W = 320;
const H = 240;
const out = join(fileURLToPath(new URL('..', import.meta.url)), 'examples', 'scene');

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

/**
 * Renders the scene from `eye` looking at `target` (y up), `width × height` pixels, focal 0.9·width.
 * Returns the RGB image, its z-depth (distance along the optical axis; the background is 1e3)
 * and the camera in OpenCV axes: world→camera 3×4 `w2c` and pixel intrinsics `K` (pixel (u, v)
 * at `[u, v, 1]`, i.e. the principal point at (W/2 − ½, H/2 − ½)).
 */
export function renderView(eye, target, width, height) {
  const f = norm(sub(target, eye));
  const r = norm(cross([0, 1, 0], f));
  const u = cross(f, r);
  const focal = 0.9 * width;
  const data = new Uint8Array(width * height * 3);
  const depth = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ray = add(add(mul(r, (x + 0.5 - width / 2) / focal), mul(u, -(y + 0.5 - height / 2) / focal)), f);
      const d = norm(ray);
      data.set(trace(eye, d), (y * width + x) * 3);
      const t = hitDistance(eye, d);
      depth[y * width + x] = t === null ? 1e3 : t * dot(d, f);
    }
  }
  // Camera axes in the world: x = r, y = −u (down), z = f.
  const R = [r, mul(u, -1), f];
  const w2c = new Float64Array(12);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) w2c[4 * i + j] = R[i][j];
    w2c[4 * i + 3] = -dot(R[i], eye);
  }
  const K = Float64Array.of(focal, 0, width / 2 - 0.5, 0, focal, height / 2 - 0.5, 0, 0, 1);
  return { data, width, height, channels: 3, depth, w2c, K };
}

/** Distance along `d` to the first surface, `null` for the sky. */
function hitDistance(o, d) {
  let best = null;
  const consider = (t) => {
    if (t !== null && t > 1e-4 && (best === null || t < best)) best = t;
  };
  if (d[1] < 0) consider(-o[1] / d[1]);
  if (d[2] > 0) consider((3 - o[2]) / d[2]);
  for (const b of boxes) consider(hitBox(o, d, b)?.t ?? null);
  const oc = sub(o, sphere.c);
  const bq = dot(oc, d);
  const disc = bq * bq - (dot(oc, oc) - sphere.r * sphere.r);
  if (disc > 0) consider(-bq - Math.sqrt(disc));
  return best;
}

const target = [0, 0.4, 0.6];

/**
 * `n` cameras sweeping in front of the scene: the eye moves on an arc of radius 3 around the
 * target from 160° to 20° left-to-right (always in front of the back wall), bobbing ±0.15 in
 * height, always looking at the target. Frame k is `{ eye, target }`.
 */
export function cameraPath(n) {
  return Array.from({ length: n }, (_, k) => {
    const s = n === 1 ? 0 : k / (n - 1);
    const phi = ((-160 + 140 * s) * Math.PI) / 180;
    return { eye: [target[0] + 3 * Math.cos(phi), 1.6 + 0.15 * Math.sin(2 * Math.PI * 3 * s), target[2] + 3 * Math.sin(phi)], target };
  });
}

async function main(argv) {
  const { default: sharp } = await import('sharp');
  const at = argv.indexOf('--path');
  if (at >= 0) {
    const n = Number(argv[at + 1]);
    const size = argv.includes('--size') ? argv[argv.indexOf('--size') + 1] : '320x240';
    const [w, h] = size.split('x').map(Number);
    const dir = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : join(out, '..', 'scene-path');
    if (!(Number.isInteger(n) && n > 0 && w > 0 && h > 0)) throw new Error('usage: render-example-scene.mjs --path N [--size WxH] [--out DIR]');
    mkdirSync(dir, { recursive: true });
    const cameras = [];
    for (const [k, cam] of cameraPath(n).entries()) {
      const v = renderView(cam.eye, cam.target, w, h);
      await sharp(Buffer.from(v.data), { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel: 9 }).toFile(join(dir, `frame_${String(k).padStart(6, '0')}.png`));
      cameras.push({ w2c: Array.from(v.w2c), K: Array.from(v.K) });
    }
    writeFileSync(join(dir, 'cameras.json'), `${JSON.stringify({ width: w, height: h, cameras })}\n`);
    console.log(`rendered ${n} path frames into ${dir}`);
    return;
  }
  mkdirSync(out, { recursive: true });
  for (const [i, eye] of views.entries()) {
    const v = renderView(eye, target, W, H);
    await sharp(Buffer.from(v.data), { raw: { width: W, height: H, channels: 3 } }).png({ compressionLevel: 9 }).toFile(join(out, `view${i}.png`));
  }
  console.log(`rendered ${views.length} views into ${out}`);
}

const views = [
  [-2.2, 1.6, -2.4],
  [-0.8, 1.7, -2.9],
  [0.8, 1.6, -2.8],
  [2.1, 1.5, -2.2],
];

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
