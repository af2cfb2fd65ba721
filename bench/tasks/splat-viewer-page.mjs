// The page side of splat-viewer.mjs (bundled by esbuild into one script; runs in headless
// Chromium): renders the same Gaussians from the same camera with our WebGPU rasterizer
// (@da3js/web) and with Spark (@sparkjsdev/spark, three.js WebGL2), timing N frames each and
// returning the last image as RGB bytes. No Node imports.
import { SparkRenderer, SplatMesh } from '@sparkjsdev/spark';
import * as THREE from 'three';
import { createWebGpuRasterizer } from '@da3js/web';
import { makeScene } from './gs-scene.mjs';

THREE.ColorManagement.enabled = false;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Bytes as base64 (page.evaluate moves strings much faster than arrays of numbers). */
const b64 = (u8) => {
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
};

/** The scene a spec names: `{ kind: 'gs-scene' }` is built here (makeScene), else the arrays given. */
function sceneOf(spec) {
  if (spec.kind === 'gs-scene') return makeScene();
  const g = spec.gaussians;
  return Object.fromEntries(Object.entries(g).map(([k, v]) => [k, typeof v === 'number' ? v : Float32Array.from(v)]));
}


/** Our WebGPU rasterizer: `frames` timed renders after 2 warm-ups ('RGB', black background). */
globalThis.renderWebGpu = async (spec, camera, frames) => {
  if (!navigator.gpu) return { skipped: 'no navigator.gpu' };
  const gaussians = sceneOf(spec);
  const raster = await createWebGpuRasterizer();
  console.log('webgpu: rasterizer ready');
  try {
    const options = { background: [0, 0, 0] };
    for (let i = 0; i < 2; i++) await raster.render(gaussians, camera, options);
    const times = [];
    let img;
    for (let f = 0; f < frames; f++) {
      const t = performance.now();
      img = await raster.render(gaussians, camera, options);
      times.push(performance.now() - t);
    }
    return { medianMs: median(times), minMs: Math.min(...times), rgbFloat: b64(new Uint8Array(img.rgb.buffer, img.rgb.byteOffset, img.rgb.byteLength)) };
  } finally {
    await raster.dispose();
  }
};

/**
 * A three.js camera equal to an OpenCV camera (world→camera 3×4 `extrinsics`, pixel `intrinsics`,
 * principal point anywhere): its world matrix is the camera→world pose times diag(1, −1, −1) (three.js
 * looks down −z with y up), its projection matrix is built from the intrinsics.
 */
function threeCamera(camera, near = 0.01, far = 1000) {
  const e = camera.extrinsics;
  const k = camera.intrinsics;
  const { width: W, height: H } = camera;
  const w2c = new THREE.Matrix4().set(e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7], e[8], e[9], e[10], e[11], 0, 0, 0, 1);
  const pose = w2c.clone().invert().multiply(new THREE.Matrix4().makeScale(1, -1, -1));
  const cam = new THREE.PerspectiveCamera((2 * Math.atan(H / 2 / k[4]) * 180) / Math.PI, W / H, near, far);
  cam.matrixAutoUpdate = false;
  pose.decompose(cam.position, cam.quaternion, cam.scale);
  cam.matrix.copy(pose);
  cam.updateMatrixWorld(true);
  cam.projectionMatrix.set(2 * k[0] / W, 0, 1 - 2 * k[2] / W, 0, 0, 2 * k[4] / H, 2 * k[5] / H - 1, 0, 0, 0, -(far + near) / (far - near), (-2 * far * near) / (far - near), 0, 0, -1, 0);
  cam.projectionMatrixInverse.copy(cam.projectionMatrix).invert();
  return cam;
}

const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r()));

let spark = null;

/**
 * Spark, step 1: a SplatMesh from a 3DGS PLY (INRIA's layout: log scales, logit opacities, SH up
 * to degree 3, `extSplats` for full precision) and a SparkRenderer in a `width`×`height` WebGL2
 * canvas. One renderer and one mesh per scene (SwiftShader's WebGL does not like many contexts).
 */
globalThis.sparkLoad = async (plyUrl, camera) => {
  const plyBytes = new Uint8Array(await (await fetch(plyUrl)).arrayBuffer());
  const canvas = document.createElement('canvas');
  canvas.width = camera.width;
  canvas.height = camera.height;
  document.body.appendChild(canvas);
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: false, alpha: false, preserveDrawingBuffer: true });
  renderer.setPixelRatio(1);
  renderer.setSize(camera.width, camera.height, false);
  renderer.setClearColor(0x000000, 1);
  // Colours as stored (3DGS colours are display values). Spark converts its colours to linear
  // unless the output colour space is sRGB, and with colour management off three.js adds no
  // encoding of its own: so sRGB output here (the app's viewer uses linear output for its points).
  renderer.outputColorSpace = THREE.SRGBColorSpace;
  const scene = new THREE.Scene();
  const sparkRenderer = new SparkRenderer({ renderer });
  scene.add(sparkRenderer);
  const t0 = performance.now();
  const mesh = new SplatMesh({ fileBytes: plyBytes, fileType: 'ply', fileName: 'scene.ply', extSplats: true });
  await mesh.initialized;
  scene.add(mesh);
  const loadMs = performance.now() - t0;
  const gl = renderer.getContext();
  spark = { canvas, renderer, scene, sparkRenderer, mesh, camera, cam: threeCamera(camera) };
  return { loadMs, glRenderer: gl.getParameter(gl.RENDERER) };
};

/**
 * Spark, step 2: sets the SparkRenderer's options, draws frames until its worker's sort has
 * settled, then times `frames` frames (each ends with a 1-pixel readPixels, so the GPU has
 * finished it) and returns the last image as RGB bytes (top row first).
 */
globalThis.sparkRender = async (frames, sparkOptions) => {
  const { renderer, scene, sparkRenderer, cam, camera } = spark;
  Object.assign(sparkRenderer, sparkOptions);
  const gl = renderer.getContext();
  const px = new Uint8Array(4);
  for (let i = 0; i < 20; i++) {
    renderer.render(scene, cam);
    await nextFrame();
    await new Promise((r) => setTimeout(r, 20));
  }
  const times = [];
  for (let f = 0; f < frames; f++) {
    const t = performance.now();
    renderer.render(scene, cam);
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    times.push(performance.now() - t);
  }
  const { width: W, height: H } = camera;
  const rgba = new Uint8Array(W * H * 4);
  gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
  const rgb = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const src = 4 * ((H - 1 - y) * W + x);
      const dst = 3 * (y * W + x);
      rgb[dst] = rgba[src];
      rgb[dst + 1] = rgba[src + 1];
      rgb[dst + 2] = rgba[src + 2];
    }
  }
  return { medianMs: median(times), minMs: Math.min(...times), rgb: b64(rgb) };
};

/** Spark, step 3: frees the scene's mesh, renderer and canvas. */
globalThis.sparkDispose = () => {
  spark.mesh.dispose?.();
  spark.renderer.dispose();
  spark.renderer.forceContextLoss?.();
  spark.canvas.remove();
  spark = null;
};

globalThis.splatPageReady = true;
