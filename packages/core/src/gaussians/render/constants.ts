/**
 * The constants of gsplat's 3DGS rasterization, as of gsplat commit
 * `0b4dddf04cb687367602c01196913cde6a743d70` (v1.5.2+13, the commit Depth-Anything-3 pins for
 * `gs_video`). Every rasterizer behind {@link GaussianRasterizer} uses these.
 *
 * Newer gsplat releases changed two of them (alpha clamp 0.99, and a minimum compensation); the
 * pinned commit clamps alpha at 0.999 in both its CUDA kernels and its PyTorch reference.
 */
export const GSPLAT_CONSTANTS = Object.freeze({
  /** The gsplat commit these constants (and the golden renders) come from. */
  commit: '0b4dddf04cb687367602c01196913cde6a743d70',
  /** Tile edge in pixels (`tile_size`). */
  tileSize: 16,
  /** A Gaussian contributes to a pixel only when its alpha is at least this (`ALPHA_THRESHOLD`). */
  alphaThreshold: 1 / 255,
  /** Alpha is clamped to at most this (`min(0.999f, opac * exp(-sigma))`). */
  maxAlpha: 0.999,
  /** A pixel stops (exclusive) when the next transmittance would be ≤ this. */
  transmittanceMin: 1e-4,
  /** Bounding-box extent in standard deviations, before the opacity-aware tightening. */
  radiusSigmas: 3.33,
  /** Clamp of the projected x/y (in units of tan(fov/2)) used for the Jacobian only: `lim = (edge − c)/f + 0.3·tan_fov`. */
  jacobianFovMargin: 0.3,
  /** Defaults of `rasterization()`. */
  defaults: Object.freeze({ near: 0.01, far: 1e10, eps2d: 0.3 }),
  /** The expected depth divides by `max(alpha, this)` (`render_alphas.clamp(min=1e-10)`). */
  depthAlphaFloor: 1e-10,
  /** SH colours are `max(SH(dir) + this, 0)` (no upper clamp). */
  shOffset: 0.5,
});
