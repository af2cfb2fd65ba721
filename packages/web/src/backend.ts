import { Da3Error, type Da3Runner, type FloatPrecision, type GraphDtype, type TensorData, type TensorElements, assertDtype, graphDtypeChoice } from '@da3js/core';
import * as ort from 'onnxruntime-web';
import type { GraphBlobs } from './graph.js';

type Ort = typeof ort;
let wasmOnlyBuild: Promise<Ort> | undefined;
/** The settings of {@link configureWasm}, applied to each onnxruntime-web build before its first session. */
const wasmSettings: { threads?: number; wasmPaths?: string } = {};

function applyWasmSettings(module: Ort): void {
  if (wasmSettings.threads !== undefined) module.env.wasm.numThreads = wasmSettings.threads;
  const paths = servedPrefix();
  if (paths !== undefined) module.env.wasm.wasmPaths = paths;
}

/** Where onnxruntime-web's files are served: ours, or a prefix the page set on onnxruntime-web itself (file-by-file paths name one build's files, so they do not count). */
function servedPrefix(): string | undefined {
  const own = ort.env.wasm.wasmPaths;
  return wasmSettings.wasmPaths ?? (typeof own === 'string' ? own : undefined);
}

/**
 * The onnxruntime-web build for a provider list. With WebGPU, the default build (`onnxruntime-web`:
 * WebGPU and WASM providers, `ort-wasm-simd-threaded.jsep.wasm`, 28 MB, built with Asyncify for
 * the WebGPU bridge). WASM alone: the WASM-only build (`onnxruntime-web/wasm`,
 * `ort-wasm-simd-threaded.wasm`, 14 MB): the same SIMD + threads kernels, half the code to fetch
 * and compile, so sessions start about twice as fast (DA3-SMALL 504×336 in Chromium, 2 threads:
 * 3.3 → 1.5 s; first run 3.9 → 2.1 s); later runs take the same time (1.7 s).
 * Multi-threaded WASM-only sessions need `wasmPaths` (this library's option, or
 * `ort.env.wasm.wasmPaths` set on onnxruntime-web): their thread workers then start from the
 * served `ort-wasm-simd-threaded.mjs`. Without it a bundler that inlines dynamic imports would
 * put both builds' worker code in one script, which hangs; those pages keep the default build.
 */
export async function ortFor(providers: readonly string[]): Promise<Ort> {
  if (providers.includes('webgpu')) return ort;
  if (servedPrefix() === undefined && (wasmSettings.threads ?? ort.env.wasm.numThreads) !== 1) return ort;
  wasmOnlyBuild ??= import('onnxruntime-web/wasm').then((m) => {
    const module = ((m as { default?: Ort }).default?.InferenceSession ? (m as { default: Ort }).default : m) as Ort;
    applyWasmSettings(module);
    return module;
  });
  return wasmOnlyBuild;
}

/** Where the network runs in the page: `auto` = WebGPU when an adapter exists, else WASM. */
export type WebDevice = 'auto' | 'webgpu' | 'wasm';

/** Devices accepted by {@link createWebRunner}. */
export const WEB_DEVICES: readonly WebDevice[] = Object.freeze(['auto', 'webgpu', 'wasm']);

/**
 * Weight type of the converted graph: `auto` = fp16 on WebGPU adapters with `shader-f16`, else
 * fp32; `fp16` (for WebGPU: WASM gains no speed from it); `q8` = int8 backbone weights run by
 * onnxruntime-web's integer kernels, WASM only (about 0.4× the graph's size).
 */
export type WebDtype = 'auto' | 'fp32' | 'fp16' | 'q8';

/** The dtypes @da3js/web accepts. */
export const WEB_DTYPES: readonly WebDtype[] = Object.freeze(['auto', 'fp32', 'fp16', 'q8']);

/** What this page can do, as far as DA3 is concerned. */
export interface WebCapabilities {
  /** A WebGPU adapter was granted. */
  readonly webgpu: boolean;
  /** The adapter supports `shader-f16` (fp16 graphs on WebGPU). */
  readonly shaderF16: boolean;
  /** A software adapter (SwiftShader): correct but slow. */
  readonly fallbackAdapter: boolean;
  /**
   * `crossOriginIsolated` (COOP/COEP), needed for WASM threads in pages and workers; true in
   * runtimes without the notion (Node, Deno), where threads need no isolation.
   */
  readonly crossOriginIsolated: boolean;
  /** Logical cores reported by the browser. */
  readonly hardwareConcurrency: number;
}

interface GpuAdapterLike {
  readonly features?: { has(name: string): boolean };
  readonly isFallbackAdapter?: boolean;
  readonly info?: { isFallbackAdapter?: boolean };
}

let capabilities: Promise<WebCapabilities> | undefined;

/** Probes (once per page) WebGPU, `shader-f16` and cross-origin isolation. */
export function webCapabilities(): Promise<WebCapabilities> {
  capabilities ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> }; hardwareConcurrency?: number }; crossOriginIsolated?: boolean };
    let adapter: GpuAdapterLike | null = null;
    try {
      adapter = (await g.navigator?.gpu?.requestAdapter()) ?? null;
    } catch {
      adapter = null;
    }
    return {
      webgpu: adapter !== null,
      shaderF16: adapter?.features?.has('shader-f16') ?? false,
      fallbackAdapter: Boolean(adapter?.isFallbackAdapter ?? adapter?.info?.isFallbackAdapter),
      crossOriginIsolated: g.crossOriginIsolated ?? true,
      hardwareConcurrency: g.navigator?.hardwareConcurrency ?? 1,
    };
  })();
  return capabilities;
}

/** Whether this context has a WebGPU adapter. */
export async function hasWebGpu(): Promise<boolean> {
  return (await webCapabilities()).webgpu;
}

/**
 * Refuses a device/dtype pair @da3js/web cannot run, before anything is fetched: an unknown device
 * or dtype (`BAD_VALUE`), another runtime's device (`cuda`, `cpu`) or a dtype da3js does not build
 * (`q4`, …) (`UNSUPPORTED`), and `q8` on WebGPU (`UNSUPPORTED`: its int8 kernels are WASM's).
 * @throws Da3Error as above
 */
export function assertWebDeviceDtype(device: unknown, dtype: unknown, where: string): void {
  if (!WEB_DEVICES.includes(device as WebDevice)) {
    if (device === 'cuda' || device === 'cpu') throw new Da3Error('UNSUPPORTED', `${where}: device "${device}" is @da3js/node's; in the browser use one of ${WEB_DEVICES.join(', ')}`);
    throw new Da3Error('BAD_VALUE', `${where}: unknown device ${JSON.stringify(device)}; should be one of ${WEB_DEVICES.join(', ')}`);
  }
  assertDtype(dtype, WEB_DTYPES, where);
  if (dtype === 'q8' && device === 'webgpu') {
    throw new Da3Error('UNSUPPORTED', `${where}: dtype "q8" runs on WASM only (the WebGPU provider has no DynamicQuantizeMatMul kernel); use device "wasm" (or "auto"), or dtype "fp16" on WebGPU`);
  }
}

/**
 * The execution providers for a device (and dtype: `q8` runs on WASM, which `auto` then picks),
 * in preference order.
 * @throws Da3Error `BAD_VALUE` (unknown device or dtype), `UNSUPPORTED` (`webgpu` asked for and no
 *   adapter, or with `q8`)
 */
export async function executionProviders(device: WebDevice = 'auto', dtype: WebDtype = 'auto'): Promise<('webgpu' | 'wasm')[]> {
  assertWebDeviceDtype(device, dtype, 'executionProviders');
  if (device === 'wasm' || dtype === 'q8') return ['wasm'];
  const gpu = await hasWebGpu();
  if (device === 'webgpu' && !gpu) throw new Da3Error('UNSUPPORTED', 'executionProviders: WebGPU is not available here (no navigator.gpu adapter: an older browser, or WebGPU disabled); use device "wasm"');
  return gpu ? ['webgpu', 'wasm'] : ['wasm'];
}

/**
 * The graph dtype for a dtype option on the chosen providers (default `auto`: fp16 on WebGPU
 * adapters with `shader-f16`, else fp32).
 * @throws Da3Error `UNSUPPORTED` for fp16 on a WebGPU adapter without `shader-f16`, q8 on WebGPU,
 *   or a dtype da3js does not build; `BAD_VALUE` for an unknown dtype
 */
export async function resolveDtype(dtype: WebDtype = 'auto', providers: readonly string[]): Promise<GraphDtype> {
  const onGpu = providers[0] === 'webgpu';
  assertDtype(dtype, WEB_DTYPES, 'resolveDtype');
  const { shaderF16 } = await webCapabilities();
  if (dtype === 'fp32') return 'fp32';
  if (dtype === 'q8') {
    if (onGpu) throw new Da3Error('UNSUPPORTED', 'resolveDtype: dtype "q8" runs on WASM only; use device "wasm", or dtype "fp16" on WebGPU');
    return 'q8';
  }
  if (dtype === 'fp16') {
    if (onGpu && !shaderF16) throw new Da3Error('UNSUPPORTED', 'resolveDtype: dtype "fp16" on WebGPU needs the adapter feature "shader-f16", which this adapter lacks; use dtype "fp32"');
    return 'fp16';
  }
  return onGpu && shaderF16 ? 'fp16' : 'fp32';
}

/**
 * The float precision of the graph for a dtype on the chosen providers ({@link resolveDtype}'s
 * precision: `q8` graphs compute in float32).
 * @throws Da3Error as {@link resolveDtype}
 */
export async function resolvePrecision(dtype: WebDtype = 'auto', providers: readonly string[]): Promise<FloatPrecision> {
  return graphDtypeChoice(await resolveDtype(dtype, providers)).precision;
}

/** WASM backend settings; onnxruntime-web applies them when its first session is created. */
export interface WasmOptions {
  /** Threads (default: onnxruntime's choice); more than 1 needs a cross-origin-isolated page. */
  readonly threads?: number;
  /** Where onnxruntime-web's `.wasm`/`.mjs` files are served from (default: next to its bundle). */
  readonly wasmPaths?: string;
}

/**
 * Applies {@link WasmOptions} to onnxruntime-web's page-wide settings (of both builds
 * `ortFor` uses).
 * @throws Da3Error `UNSUPPORTED` for threads > 1 in a page that is not cross-origin isolated
 */
export async function configureWasm(options: WasmOptions): Promise<void> {
  if (options.threads !== undefined) {
    if (!Number.isSafeInteger(options.threads) || options.threads < 1) throw new Da3Error('BAD_VALUE', `configureWasm: threads must be a positive integer, got ${options.threads}`);
    if (options.threads > 1 && !(await webCapabilities()).crossOriginIsolated) {
      throw new Da3Error('UNSUPPORTED', `configureWasm: ${options.threads} WASM threads need a cross-origin-isolated page (serve it with "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp"); use threads: 1`);
    }
    wasmSettings.threads = options.threads;
  }
  if (options.wasmPaths !== undefined) wasmSettings.wasmPaths = options.wasmPaths;
  if (wasmSettings.threads !== undefined) ort.env.wasm.numThreads = wasmSettings.threads;
  if (wasmSettings.wasmPaths !== undefined) ort.env.wasm.wasmPaths = wasmSettings.wasmPaths;
  if (wasmOnlyBuild) applyWasmSettings(await wasmOnlyBuild);
}

// onnxruntime-web must not create or run two sessions at once (the WebGPU trap): one chain for all.
let chain: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = chain.then(fn);
  chain = next.catch(() => undefined);
  return next;
}

const OOM = /out of memory|Maximum memory size|memory access out of bounds|failed to allocate|Array buffer allocation failed|bad_alloc|Out of Memory/i;

/** Turns onnxruntime's memory failures into `OUT_OF_MEMORY` with advice; other errors pass through. */
function explain(error: unknown, doing: string): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RangeError || OOM.test(message)) {
    return new Da3Error('OUT_OF_MEMORY', `${doing}: the browser ran out of memory (${message}); try a smaller model, dtype "fp16" on WebGPU, fewer views or a lower processRes`, { cause: error });
  }
  return error;
}

/** A runner over one onnxruntime-web session. */
export interface WebRunner extends Da3Runner {
  readonly providers: readonly string[];
  dispose(): Promise<void>;
}

/** Options of {@link createWebRunner}. */
export interface WebRunnerOptions extends WasmOptions {
  readonly device?: WebDevice;
  /** Providers already chosen (skips {@link executionProviders}). */
  readonly providers?: readonly ('webgpu' | 'wasm')[];
}

/**
 * Creates an onnxruntime-web session from a graph — bytes, or {@link GraphBlobs} with external
 * data (graphs over 2 GB) — and adapts it to core's `Da3Runner`. Creation and runs are serialised
 * across all sessions. The model bytes are read from the Blob just before the session takes them
 * and are not kept.
 * @throws Da3Error `UNSUPPORTED` (missing capability), `OUT_OF_MEMORY`
 */
export async function createWebRunner(graph: Uint8Array | GraphBlobs, options: WebRunnerOptions = {}): Promise<WebRunner> {
  const providers = options.providers ? [...options.providers] : await executionProviders(options.device);
  await configureWasm(options);
  const runtime = await ortFor(providers);
  const session = await serial(async () => {
    try {
      const bytes = graph instanceof Uint8Array ? graph : new Uint8Array(await graph.model.arrayBuffer());
      const externalData = graph instanceof Uint8Array || !graph.externalData ? undefined : [{ path: graph.externalData.location, data: graph.externalData.blob }];
      // WebGPU with NCHW kernels: the provider's default NHWC layout transform gave wrong numbers
      // for DPT's Conv → Transpose chains (errors of 1e-2 with onnxruntime-web 1.30).
      const executionProviders = providers.map((p) => (p === 'webgpu' ? { name: 'webgpu' as const, preferredLayout: 'NCHW' as const } : p));
      return await runtime.InferenceSession.create(bytes, { executionProviders, graphOptimizationLevel: 'all', ...(externalData ? { externalData } : {}) });
    } catch (error) {
      throw explain(error, 'createWebRunner');
    }
  });
  return {
    providers,
    run: (feeds) =>
      serial(async () => {
        const f: Record<string, ort.Tensor> = {};
        for (const [k, t] of Object.entries(feeds)) f[k] = new runtime.Tensor('float32', t.data as Float32Array, [...t.shape]);
        let out: ort.InferenceSession.ReturnType;
        try {
          out = await session.run(f);
        } catch (error) {
          throw explain(error, 'WebRunner.run');
        }
        const res: Record<string, TensorData<TensorElements>> = {};
        for (const [k, t] of Object.entries(out)) res[k] = { data: t.data as TensorElements, shape: t.dims };
        return res;
      }),
    dispose: () => serial(() => session.release()),
  };
}
