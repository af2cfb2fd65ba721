/**
 * A Gaussian rasterizer that gives the worker's event loop a turn before each frame. A frame of
 * core's CPU rasterizer is one synchronous computation, and a gs_video renders its frames in a
 * loop of promises (microtasks), so without a macrotask between frames the worker would not read
 * the page's `cancel` message until the whole video is rendered. With it, Cancel is heard after
 * the frame in hand.
 */
import type { GaussianRasterizer } from '@da3js/core';

/** Resolves after a macrotask (timers and messages queued before it run first). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * `inner`, with a macrotask before each `render` (then `options.signal` is checked by `inner`).
 * Same name, same images; `dispose` disposes `inner`.
 */
export function yieldingRasterizer(inner: GaussianRasterizer): GaussianRasterizer {
  return {
    name: inner.name,
    async render(gaussians, camera, options) {
      await yieldToEventLoop();
      return inner.render(gaussians, camera, options);
    },
    dispose: () => inner.dispose(),
  };
}
