import { Da3Error, type Da3Runner, type TensorData, type TensorElements } from '@da3js/core';
import * as ort from 'onnxruntime-web';

/** Where the network runs in the page: `auto` = WebGPU when an adapter exists, else WASM. */
export type WebDevice = 'auto' | 'webgpu' | 'wasm';

/** Devices accepted by {@link createWebRunner}. */
export const WEB_DEVICES: readonly WebDevice[] = Object.freeze(['auto', 'webgpu', 'wasm']);

interface NavigatorLike {
  gpu?: { requestAdapter(): Promise<unknown> };
}

/** Whether this context has a WebGPU adapter. */
export async function hasWebGpu(): Promise<boolean> {
  const nav = (globalThis as { navigator?: NavigatorLike }).navigator;
  if (!nav?.gpu) return false;
  try {
    return (await nav.gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/** The execution providers for a device, in preference order. */
export async function executionProviders(device: WebDevice = 'auto'): Promise<('webgpu' | 'wasm')[]> {
  if (!WEB_DEVICES.includes(device)) throw new Da3Error('BAD_VALUE', `executionProviders: unknown device "${device}"; should be one of ${WEB_DEVICES.join(', ')}`);
  if (device === 'wasm') return ['wasm'];
  const gpu = await hasWebGpu();
  if (device === 'webgpu' && !gpu) throw new Da3Error('IO', 'executionProviders: WebGPU is not available here (no navigator.gpu adapter); use device "wasm"');
  return gpu ? ['webgpu', 'wasm'] : ['wasm'];
}

// onnxruntime-web must not create or run two sessions at once (the WebGPU trap): one chain for all.
let chain: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = chain.then(fn);
  chain = next.catch(() => undefined);
  return next;
}

/** A runner over one onnxruntime-web session. */
export interface WebRunner extends Da3Runner {
  readonly providers: readonly string[];
  dispose(): Promise<void>;
}

/**
 * Creates an onnxruntime-web session from model bytes (the caller may drop its copy afterwards)
 * and adapts it to core's `Da3Runner`. Creation and runs are serialised across all sessions.
 */
export async function createWebRunner(model: Uint8Array, options: { device?: WebDevice; threads?: number } = {}): Promise<WebRunner> {
  const providers = await executionProviders(options.device);
  if (options.threads !== undefined) ort.env.wasm.numThreads = options.threads;
  const session = await serial(() => ort.InferenceSession.create(model, { executionProviders: providers, graphOptimizationLevel: 'all' }));
  return {
    providers,
    run: (feeds) =>
      serial(async () => {
        const f: Record<string, ort.Tensor> = {};
        for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', t.data as Float32Array, [...t.shape]);
        const out = await session.run(f);
        const res: Record<string, TensorData<TensorElements>> = {};
        for (const [k, t] of Object.entries(out)) res[k] = { data: t.data as TensorElements, shape: t.dims };
        return res;
      }),
    dispose: () => serial(() => session.release()),
  };
}
