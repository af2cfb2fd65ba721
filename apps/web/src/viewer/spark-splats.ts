/**
 * Splat mode where WebGPU is missing: the prediction's 3D Gaussians drawn by Spark
 * (`@sparkjsdev/spark`, a three.js Gaussian-splat renderer on WebGL2) inside the viewer's own
 * three.js scene. Loaded lazily (a chunk of its own, ~0.9 MiB gzip) by `splats.ts` only when splat
 * mode is switched on without a WebGPU adapter, so the page's bundle does not grow.
 *
 * The Gaussians go to Spark as a 3DGS PLY made in memory by @da3js/exporters (INRIA layout: log
 * scales, logit opacities, SH to degree 3 — DA3's degree-2 SH kept), in OpenCV world axes; the
 * mesh is turned 180° about x, which is how the viewer shows OpenCV (x, y, z) at (x, −y, −z).
 * Spark is set up like gsplat's classic rasterization, which renders DA3's Gaussians in the
 * reference (`bench/tasks/splat-viewer.mjs`: 49 dB PSNR, max |Δ| 9/255 against the CPU
 * rasterizer; Spark's defaults — antialiased, radial order — give 39 dB).
 */
import type { Gaussians } from '@da3js/core';
import { memorySink, writeGaussiansPly } from '@da3js/exporters';
import { SparkRenderer, SplatFileType, SplatMesh } from '@sparkjsdev/spark';
import * as THREE from 'three';
import type { Viewer } from './viewer.js';

/**
 * Spark settings closest to gsplat's classic mode: a 0.3 px² dilation without opacity
 * compensation, z-depth order, a 3.33σ extent, alpha ≥ 1/255.
 */
export const SPARK_GSPLAT_SETTINGS = Object.freeze({ preBlurAmount: 0.3, blurAmount: 0, sortRadial: false, maxStdDev: 3.33, minAlpha: 1 / 255 });

/** The Gaussians as a 3DGS PLY (`sh3` layout) in memory. */
export async function gaussiansPlyBytes(gaussians: Gaussians): Promise<Uint8Array> {
  const sink = memorySink();
  await writeGaussiansPly(gaussians, sink, { layout: 'sh3' });
  return sink.bytes();
}

/** Spark's splats of one prediction in the viewer's scene (see the module doc). */
export class SparkSplats {
  private readonly group = new THREE.Group();
  private shown = false;

  private constructor(
    private readonly viewer: Viewer,
    private readonly spark: SparkRenderer,
    private readonly mesh: SplatMesh,
  ) {
    this.group.name = 'spark-splats';
    this.group.add(spark, mesh);
  }

  /** Loads the Gaussians into Spark (parsed in Spark's worker); not shown yet. */
  static async create(viewer: Viewer, gaussians: Gaussians): Promise<SparkSplats> {
    // Spark draws again by itself once its worker has sorted for a new view.
    const spark = new SparkRenderer({ renderer: viewer.renderer, onDirty: () => viewer.render(), ...SPARK_GSPLAT_SETTINGS });
    const mesh = new SplatMesh({ fileBytes: await gaussiansPlyBytes(gaussians), fileType: SplatFileType.PLY, fileName: 'gaussians.ply', extSplats: true });
    await mesh.initialized;
    // OpenCV world (y down, z forward) → the viewer's three.js axes (y up, z back).
    mesh.quaternion.set(1, 0, 0, 0);
    return new SparkSplats(viewer, spark, mesh);
  }

  /**
   * Shows (hides) the splats instead of the point cloud. While shown the renderer's output colour
   * space is sRGB, so Spark writes its colours as stored (its shader converts them to linear for a
   * linear output and has no output encoding); meanwhile three.js sRGB-encodes the frustum lines
   * (a little brighter).
   */
  show(on: boolean): void {
    if (on === this.shown) return;
    this.shown = on;
    if (on) this.viewer.scene.add(this.group);
    else this.viewer.scene.remove(this.group);
    this.viewer.renderer.outputColorSpace = on ? THREE.SRGBColorSpace : THREE.LinearSRGBColorSpace;
    this.viewer.setPointsHidden(on);
  }

  /** Removes the splats and frees Spark's GPU resources and worker. */
  dispose(): void {
    this.show(false);
    this.mesh.dispose();
    this.spark.dispose();
  }
}
