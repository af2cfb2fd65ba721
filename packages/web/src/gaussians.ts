import { Da3Error, type GaussianRasterizer, type WebGpuDeviceLike, createWebGpuRasterizer as createCoreWebGpuRasterizer } from '@da3js/core';

/** Options of {@link createWebGpuRasterizer}. */
export interface WebGpuRasterizerOptions {
  /**
   * A `GPUDevice` to render on (shared with your own WebGPU code); the rasterizer leaves it alive
   * on `dispose()`. Default: a new device from `navigator.gpu` with the adapter's largest buffer
   * limits, destroyed by `dispose()`.
   */
  readonly device?: WebGpuDeviceLike;
}

interface AdapterLike {
  readonly limits: { readonly maxStorageBufferBindingSize: number; readonly maxBufferSize: number };
  requestDevice(descriptor?: { requiredLimits?: Record<string, number>; label?: string }): Promise<WebGpuDeviceLike & { destroy(): void }>;
}

/**
 * A Gaussian rasterizer on WebGPU compute shaders that reproduces gsplat's `rasterization` (core's
 * `createWebGpuRasterizer`; see its docs for what is reproduced). It renders a prediction's
 * `gaussians` from any `RenderCamera`:
 *
 * ```ts
 * const raster = await createWebGpuRasterizer();
 * const img = await raster.render(prediction.gaussians!, { extrinsics, intrinsics, width: 504, height: 336 }, { renderMode: 'RGB+ED' });
 * await raster.dispose();
 * ```
 *
 * @throws Da3Error `UNSUPPORTED` when no `device` is given and this context has no WebGPU adapter.
 */
export async function createWebGpuRasterizer(options: WebGpuRasterizerOptions = {}): Promise<GaussianRasterizer> {
  if (options.device) return createCoreWebGpuRasterizer({ device: options.device });
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<AdapterLike | null> } } }).navigator?.gpu;
  let adapter: AdapterLike | null = null;
  try {
    adapter = (await gpu?.requestAdapter()) ?? null;
  } catch {
    adapter = null;
  }
  if (!adapter) throw new Da3Error('UNSUPPORTED', 'createWebGpuRasterizer: WebGPU is not available here (no navigator.gpu adapter: an older browser, or WebGPU disabled)');
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
  const device = await adapter.requestDevice({ label: 'da3js Gaussian rasterizer', requiredLimits: { maxStorageBufferBindingSize, maxBufferSize } });
  const raster = createCoreWebGpuRasterizer({ device });
  return {
    name: raster.name,
    render: (gaussians, camera, renderOptions) => raster.render(gaussians, camera, renderOptions),
    async dispose() {
      await raster.dispose();
      device.destroy();
    },
  };
}
