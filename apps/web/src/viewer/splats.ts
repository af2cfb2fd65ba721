/**
 * Splat mode of the 3D viewer: the prediction's 3D Gaussians instead of the point cloud. The
 * "Splats" checkbox switches; it is enabled for predictions with Gaussians. Two renderers (the
 * choice is measured in apps/web/README.md, "Viewer: splat renderer"):
 *
 * - with a WebGPU adapter, @da3js/web's WebGPU rasterizer (gsplat's `rasterization`: EWA splats,
 *   SH colour, depth-sorted compositing — gsplat's images to ~1e-6) from the viewer's camera,
 *   drawn into a canvas laid over the three.js one. Frames are rendered on demand (orbit, zoom,
 *   resize), one at a time: changes during a frame are folded into the next one;
 * - without one, Spark on WebGL2 in the viewer's own scene (`spark-splats.ts`, a lazily loaded
 *   chunk), set up like gsplat's classic mode.
 *
 * Kept in its own module (the viewer only lends its camera, scene and container) so other viewer
 * features merge cleanly.
 */
import type { Gaussians, GaussianRasterizer, RenderCamera } from '@da3js/core';
import { createWebGpuRasterizer, hasWebGpu } from '@da3js/web';
import * as THREE from 'three';
import type { SparkSplats } from './spark-splats.js';
import type { Viewer } from './viewer.js';

/** Frames are rendered at most this many pixels (scaled down from the canvas, then stretched). */
export const MAX_SPLAT_PIXELS = 640 * 480;

/**
 * The three.js camera as a gsplat {@link RenderCamera} for a `width` × `height` image. The viewer
 * shows the OpenCV world as (x, −y, −z), and a three.js camera looks down −z with y up, so with
 * F = diag(1, −1, −1) the world→camera matrix in OpenCV axes is F·V·F (V = `matrixWorldInverse`).
 * Intrinsics from the vertical field of view (square pixels, principal point at the centre).
 */
export function renderCameraFromThree(camera: THREE.PerspectiveCamera, width: number, height: number): RenderCamera {
  camera.updateMatrixWorld();
  const v = camera.matrixWorldInverse.elements; // column-major
  const f = [1, -1, -1];
  const extrinsics: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) extrinsics.push(f[r] * v[4 * c + r] * f[c]);
    extrinsics.push(f[r] * v[12 + r]);
  }
  const focal = (height / 2 / Math.tan(THREE.MathUtils.degToRad(camera.fov) / 2)) * camera.zoom;
  return { extrinsics, intrinsics: [focal, 0, width / 2, 0, focal, height / 2, 0, 0, 1], width, height };
}

/** The render size for a `w` × `h` CSS-pixel canvas: at most {@link MAX_SPLAT_PIXELS}, same aspect. */
export function splatRenderSize(w: number, h: number, maxPixels = MAX_SPLAT_PIXELS): { width: number; height: number } {
  const s = Math.min(1, Math.sqrt(maxPixels / Math.max(1, w * h)));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

/** Which renderer draws the splats: our WebGPU rasterizer, or Spark on WebGL2 where WebGPU is missing. */
export type SplatBackend = 'webgpu' | 'spark';

/** Splat mode (see the module doc). */
export class SplatView {
  private gaussians: Gaussians | null = null;
  private raster: Promise<GaussianRasterizer> | null = null;
  private readonly canvas: HTMLCanvasElement;
  private busy = false;
  private dirty = false;
  private webgpu: boolean | null = null;
  /** Spark's splats of the current Gaussians (loading or loaded), when Spark is the backend. */
  private spark: { readonly gaussians: Gaussians; readonly layer: Promise<SparkSplats> } | null = null;
  /** True while Spark's splats are in the viewer's scene. */
  private sparkShown = false;
  /** Frames drawn (for tests), and the last frame's time in ms (Spark: the draw call's time on this thread). */
  frames = 0;
  lastFrameMs = 0;

  constructor(
    private readonly viewer: Viewer,
    private readonly toggle: HTMLInputElement,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'splat-overlay';
    Object.assign(this.canvas.style, { position: 'absolute', inset: '0', width: '100%', height: '100%', pointerEvents: 'none', imageRendering: 'auto' });
    this.canvas.style.display = 'none';
    this.canvas.setAttribute('aria-hidden', 'true');
    const container = viewer.container;
    if (getComputedStyle(container).position === 'static') container.style.position = 'relative';
    container.appendChild(this.canvas);
    toggle.addEventListener('change', () => this.apply());
    viewer.controls.addEventListener('change', () => this.request());
    new ResizeObserver(() => this.request()).observe(container);
    void hasWebGpu().then((ok) => {
      this.webgpu = ok;
      this.updateToggle();
    });
    // Spark draws inside the viewer's frames: count those drawn with the splats shown.
    viewer.afterRender.add(() => {
      if (this.backend !== 'spark' || !this.enabled || !this.sparkShown) return;
      this.frames++;
      this.lastFrameMs = viewer.lastDrawMs;
    });
  }

  /** The renderer splat mode uses here (`null` until the WebGPU check has answered). */
  get backend(): SplatBackend | null {
    return this.webgpu === null ? null : this.webgpu ? 'webgpu' : 'spark';
  }

  /** True while the Gaussians are shown instead of the point cloud. */
  get enabled(): boolean {
    return this.toggle.checked && !this.toggle.disabled;
  }

  /** The prediction's Gaussians (`null`: none, the toggle is disabled and the point cloud shown). */
  setGaussians(gaussians: Gaussians | null): void {
    this.gaussians = gaussians && gaussians.count > 0 ? gaussians : null;
    this.updateToggle();
    this.apply();
  }

  private updateToggle(): void {
    this.toggle.disabled = !this.gaussians || this.webgpu === null;
    const how = this.webgpu ? 'WebGPU' : 'WebGL2, Spark';
    this.toggle.title = this.gaussians ? `Show the 3D Gaussians as splats (${how})` : 'needs 3D Gaussians (a model with a GS head and "3D Gaussians")';
    if (this.toggle.disabled) this.toggle.checked = false;
  }

  private apply(): void {
    const on = this.enabled;
    if (this.backend === 'spark') {
      this.canvas.style.display = 'none';
      void this.applySpark(on);
      return;
    }
    this.canvas.style.display = on ? 'block' : 'none';
    if (on) this.request();
  }

  /** Spark: loads the chunk and the Gaussians on first use, then shows or hides them. */
  private async applySpark(on: boolean): Promise<void> {
    const gaussians = this.gaussians;
    if (this.spark && this.spark.gaussians !== gaussians) {
      const old = this.spark.layer;
      this.spark = null;
      this.sparkShown = false;
      void old.then((l) => l.dispose(), () => undefined);
    }
    if (!on || !gaussians) {
      this.sparkShown = false;
      await this.spark?.layer.then(
        (l) => l.show(false),
        () => undefined,
      );
      return;
    }
    this.spark ??= { gaussians, layer: import('./spark-splats.js').then((m) => m.SparkSplats.create(this.viewer, gaussians)) };
    const current = this.spark;
    try {
      const layer = await current.layer;
      // Switched off, or other Gaussians, while loading.
      if (this.spark !== current || !this.enabled) return;
      this.sparkShown = true;
      layer.show(true);
    } catch (e) {
      if (this.spark === current) this.spark = null;
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    if (!this.enabled) return;
    console.warn(`splats: ${(e as Error).message}`);
    this.toggle.checked = false;
    this.toggle.title = `Splats failed: ${(e as Error).message}`;
    this.canvas.style.display = 'none';
    this.sparkShown = false;
    void this.spark?.layer.then((l) => l.show(false), () => undefined);
  }

  /** Renders a frame soon (folded into the next one while a frame is running). */
  request(): void {
    if (!this.enabled || this.backend !== 'webgpu') return;
    if (this.busy) {
      this.dirty = true;
      return;
    }
    void this.draw();
  }

  private async draw(): Promise<void> {
    const gaussians = this.gaussians;
    if (!gaussians) return;
    this.busy = true;
    this.dirty = false;
    try {
      this.raster ??= createWebGpuRasterizer();
      const raster = await this.raster;
      const rect = this.viewer.container.getBoundingClientRect();
      const { width, height } = splatRenderSize(rect.width, rect.height);
      const camera = renderCameraFromThree(this.viewer.camera, width, height);
      const bg = this.viewer.scene.background instanceof THREE.Color ? this.viewer.scene.background : new THREE.Color(0, 0, 0);
      const t = performance.now();
      const img = await raster.render(gaussians, camera, { background: [bg.r, bg.g, bg.b] });
      this.lastFrameMs = performance.now() - t;
      if (!this.enabled || gaussians !== this.gaussians) return;
      const data = new ImageData(width, height);
      for (let i = 0; i < width * height; i++) {
        data.data[4 * i] = Math.min(255, Math.max(0, Math.round(img.rgb[3 * i] * 255)));
        data.data[4 * i + 1] = Math.min(255, Math.max(0, Math.round(img.rgb[3 * i + 1] * 255)));
        data.data[4 * i + 2] = Math.min(255, Math.max(0, Math.round(img.rgb[3 * i + 2] * 255)));
        data.data[4 * i + 3] = 255;
      }
      this.canvas.width = width;
      this.canvas.height = height;
      this.canvas.getContext('2d')?.putImageData(data, 0, 0);
      this.frames++;
    } catch (e) {
      this.fail(e);
    } finally {
      this.busy = false;
      if (this.dirty) this.request();
    }
  }
}
