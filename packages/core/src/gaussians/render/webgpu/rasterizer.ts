import { Da3Error, throwIfAborted } from '../../../errors.js';
import type { Gaussians } from '../../../prediction/prediction.js';
import { type RasterFrame, prepareRasterFrame } from '../frame.js';
import type { GaussianRasterizer, RasterImage, RasterizeOptions, RenderCamera } from '../types.js';
import {
  BLOCK_ELEMENTS,
  EMIT_WGSL,
  GATHER_WGSL,
  HISTOGRAM_WGSL,
  PROJECT_WGSL,
  RANGES_WGSL,
  RASTERIZE_WGSL,
  SCAN_ADD_WGSL,
  SCAN_BLOCKS_WGSL,
  SCATTER_WGSL,
  TILE_SIZE,
  TILES_PER_GROUP,
  WORKGROUP,
} from './shaders.js';

/**
 * The WebGPU device a {@link createWebGpuRasterizer} runs on: a `GPUDevice` — the browser's
 * (`navigator.gpu`), or one from a Node binding such as the `webgpu` package (Dawn). Declared
 * structurally so that core ships no WebGPU typings; any `GPUDevice` is assignable. The rasterizer
 * uses only this object (never `navigator` or the `GPUBufferUsage`-style globals).
 */
export interface WebGpuDeviceLike {
  readonly queue: object;
  readonly limits: object;
  createBuffer(...args: never[]): unknown;
  createComputePipelineAsync(...args: never[]): unknown;
  createBindGroup(...args: never[]): unknown;
  createCommandEncoder(...args: never[]): unknown;
  createShaderModule(...args: never[]): unknown;
}

/** Options of {@link createWebGpuRasterizer}. */
export interface WebGpuRasterizerOptions {
  /** The device to run on; it is not destroyed by `dispose()` (its owner does that). */
  readonly device: WebGpuDeviceLike;
}

// WebGPU's numeric flags (spec constants), so no `GPUBufferUsage` global is needed.
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

const MAX_GROUPS_X = 65535;
/** Bytes of one per-dispatch parameter slot (minUniformBufferOffsetAlignment is at most 256). */
const SLOT = 256;
const FRAME_BYTES = 144;

type Kernel = 'project' | 'histogram' | 'scatter' | 'scanBlocks' | 'scanAdd' | 'gather' | 'emit' | 'ranges' | 'rasterize';
const SOURCES: Record<Kernel, string> = {
  project: PROJECT_WGSL,
  histogram: HISTOGRAM_WGSL,
  scatter: SCATTER_WGSL,
  scanBlocks: SCAN_BLOCKS_WGSL,
  scanAdd: SCAN_ADD_WGSL,
  gather: GATHER_WGSL,
  emit: EMIT_WGSL,
  ranges: RANGES_WGSL,
  rasterize: RASTERIZE_WGSL,
};

/** A storage buffer grown on demand (contents are not kept when it grows). */
class Growable {
  buffer: GPUBuffer | undefined;
  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
    private readonly usage: number = STORAGE | COPY_SRC | COPY_DST,
  ) {}
  /** At least `bytes` (≥ 16) bytes; grows by 1.5× to spare reallocations. */
  ensure(bytes: number): GPUBuffer {
    const want = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (!this.buffer || this.buffer.size < want) {
      this.buffer?.destroy();
      const size = this.buffer ? Math.max(want, Math.ceil((this.buffer.size * 1.5) / 16) * 16) : want;
      this.buffer = createBuffer(this.device, size, this.usage, this.label);
    }
    return this.buffer;
  }
  destroy(): void {
    this.buffer?.destroy();
    this.buffer = undefined;
  }
}

function createBuffer(device: GPUDevice, size: number, usage: number, label: string): GPUBuffer {
  const maxBuffer = (device.limits as GPUSupportedLimits).maxBufferSize;
  const maxBinding = (device.limits as GPUSupportedLimits).maxStorageBufferBindingSize;
  if ((usage & STORAGE && size > maxBinding) || size > maxBuffer) {
    throw new Da3Error(
      'OUT_OF_MEMORY',
      `WebGPU rasterizer: ${label} needs ${size} bytes, over this device's limit (maxStorageBufferBindingSize ${maxBinding}, maxBufferSize ${maxBuffer}); render fewer Gaussians or a smaller image, or request a device with higher limits`,
    );
  }
  return device.createBuffer({ label: `gaussian-raster ${label}`, size, usage });
}

/** The scene's Gaussians on the GPU (kept while the same `Gaussians` object is rendered). */
interface Scene {
  readonly source: Gaussians;
  readonly gauss: GPUBuffer;
  readonly sh: GPUBuffer;
}

/** Slots of per-dispatch parameters one phase may use (a phase needs under 100). */
const MAX_SLOTS = 256;

/**
 * One phase's per-dispatch parameters: fixed-size uniform slots, written with one `writeBuffer`
 * before the phase's submit (so every dispatch of the command buffer sees its own values).
 */
class Params {
  private readonly data = new Uint32Array(MAX_SLOTS * (SLOT / 4));
  private used = 0;
  readonly buffer: GPUBuffer;
  constructor(private readonly device: GPUDevice) {
    this.buffer = createBuffer(device, MAX_SLOTS * SLOT, UNIFORM | COPY_DST, 'params');
  }
  reset(): void {
    this.used = 0;
  }
  /** A slot holding (n, shift, blocks, extra); returns its byte offset. */
  push(n: number, shift = 0, blocks = 0, extra = 0): number {
    if (this.used >= MAX_SLOTS) throw new Da3Error('OUT_OF_MEMORY', `WebGPU rasterizer: over ${MAX_SLOTS} dispatches in one phase`);
    const o = this.used * (SLOT / 4);
    this.data.set([n, shift, blocks, extra], o);
    return this.used++ * SLOT;
  }
  upload(): void {
    if (this.used > 0) this.device.queue.writeBuffer(this.buffer, 0, this.data, 0, this.used * (SLOT / 4));
  }
  destroy(): void {
    this.buffer.destroy();
  }
}

/**
 * Packs means, opacities, scales and rotations as 3 vec4 per Gaussian. A Gaussian with a
 * non-finite parameter gets opacity 0, so it is culled (its projection would not be finite).
 */
function packGaussians(g: Gaussians): Float32Array<ArrayBuffer> {
  const out = new Float32Array(Math.max(1, g.count) * 12);
  const K = 3 * g.shCoefficients;
  for (let i = 0; i < g.count; i++) {
    const o = 12 * i;
    out[o] = g.means[3 * i];
    out[o + 1] = g.means[3 * i + 1];
    out[o + 2] = g.means[3 * i + 2];
    out[o + 3] = g.opacities[i];
    out[o + 4] = g.scales[3 * i];
    out[o + 5] = g.scales[3 * i + 1];
    out[o + 6] = g.scales[3 * i + 2];
    out[o + 8] = g.rotations[4 * i];
    out[o + 9] = g.rotations[4 * i + 1];
    out[o + 10] = g.rotations[4 * i + 2];
    out[o + 11] = g.rotations[4 * i + 3];
    let sum = 0;
    for (let k = 0; k < 12; k++) sum += out[o + k];
    for (let k = K * i; k < K * (i + 1); k++) sum += g.harmonics[k];
    if (!Number.isFinite(sum)) out[o + 3] = 0;
  }
  return out;
}

/** Scan blocks (one thread each) covering `n`. */
const blocksOf = (n: number) => Math.max(1, Math.ceil(n / BLOCK_ELEMENTS));

/** Radix-sort chunking of `n` keys: at least 64 keys a thread, at most 16384 threads. */
function sortChunks(n: number): { size: number; count: number } {
  const size = Math.max(64, Math.ceil(n / 16384));
  return { size, count: Math.max(1, Math.ceil(n / size)) };
}

/** Number of bits to hold 0..n-1 (at least 1). */
const bitsFor = (n: number) => Math.max(1, Math.ceil(Math.log2(Math.max(2, n))));

/**
 * A {@link GaussianRasterizer} on WebGPU compute shaders, reproducing gsplat's `rasterization`
 * (pinhole camera, `packed=False`, classic mode): EWA projection with gsplat's `eps2d`, near/far
 * planes, opacity-aware 3.33σ boxes and 16-pixel tiles; SH colour to degree 3 (+0.5, clamped at
 * 0); a stable sort by (tile, depth) — ties in depth keep the Gaussian order, like gsplat's radix
 * sort; front-to-back compositing with alpha ≤ 0.99, alpha ≥ 1/255 and the 1e-4 transmittance
 * cut-off; background `T·bg`; `'RGB+ED'` expected depth `Σwz / max(α, 1e-10)`.
 *
 * Host code only: it uses the given device and nothing global, so browsers and Node WebGPU
 * bindings both run it. Renders are serialised on the device; the scene's Gaussians are uploaded
 * once and kept while the same `Gaussians` object is rendered again (camera paths, benchmarks).
 * `@da3js/web` wraps this with a device from `navigator.gpu`.
 *
 * @throws from `render`: Da3Error `BAD_SHAPE` / `BAD_VALUE` / `NON_FINITE` (inputs),
 *   `OUT_OF_MEMORY` (a buffer over the device's limits), `ABORTED` (the signal fired between the
 *   GPU steps), `UNSUPPORTED` (a device lost or a WebGPU error).
 */
export function createWebGpuRasterizer(options: WebGpuRasterizerOptions): GaussianRasterizer {
  const device = options?.device as unknown as GPUDevice | undefined;
  if (!device || typeof device.createBuffer !== 'function' || typeof device.createComputePipelineAsync !== 'function') {
    throw new Da3Error('BAD_VALUE', 'createWebGpuRasterizer: options.device must be a GPUDevice');
  }
  return new WebGpuRasterizer(device);
}

/** Block counts of each level of a multi-level scan of `n` elements (the last level has 1 block). */
function scanLevels(n: number): number[] {
  const levels = [blocksOf(n)];
  while (levels[levels.length - 1] > 1) levels.push(blocksOf(levels[levels.length - 1]));
  return levels;
}

type Resource = GPUBuffer | { readonly slot: number };
type Pipelines = Record<Kernel, GPUComputePipeline>;

class WebGpuRasterizer implements GaussianRasterizer {
  readonly name = 'webgpu';
  private readonly device: GPUDevice;
  private pipelines: Promise<Pipelines> | undefined;
  private scene: Scene | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly params: Params;
  private readonly frame: GPUBuffer;
  private readonly staging: GPUBuffer;
  private readonly bufs: Record<string, Growable> = {};
  private readonly scanSums: Growable[] = [];
  private readonly readback: Growable;

  constructor(device: GPUDevice) {
    this.device = device;
    this.params = new Params(device);
    this.frame = createBuffer(device, FRAME_BYTES, UNIFORM | COPY_DST, 'frame');
    this.staging = createBuffer(device, 16, MAP_READ | COPY_DST, 'total readback');
    for (const n of ['splats', 'rects', 'counts', 'keysA', 'valsA', 'keysB', 'valsB', 'offsets', 'hist', 'tileKeysA', 'idsA', 'tileKeysB', 'idsB', 'ranges', 'image']) {
      this.bufs[n] = new Growable(device, n);
    }
    this.readback = new Growable(device, 'image readback', MAP_READ | COPY_DST);
  }

  render(gaussians: Gaussians, camera: RenderCamera, options: RasterizeOptions = {}): Promise<RasterImage> {
    if (this.disposed) return Promise.reject(new Da3Error('BAD_VALUE', 'WebGPU rasterizer: render() after dispose()'));
    let frame: RasterFrame;
    try {
      frame = prepareRasterFrame('WebGpuRasterizer.render', gaussians, camera, options);
    } catch (e) {
      return Promise.reject(e);
    }
    const run = this.queue.then(() => this.renderNow(gaussians, frame, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    this.scene?.gauss.destroy();
    this.scene?.sh.destroy();
    this.scene = undefined;
    for (const b of Object.values(this.bufs)) b.destroy();
    for (const b of this.scanSums) b.destroy();
    this.readback.destroy();
    this.params.destroy();
    this.frame.destroy();
    this.staging.destroy();
  }

  private compile(): Promise<Pipelines> {
    this.pipelines ??= (async () => {
      const entries = await Promise.all(
        (Object.keys(SOURCES) as Kernel[]).map(async (k) => {
          const module = this.device.createShaderModule({ label: `gaussian-raster ${k}`, code: SOURCES[k] });
          try {
            return [k, await this.device.createComputePipelineAsync({ label: `gaussian-raster ${k}`, layout: 'auto', compute: { module, entryPoint: 'main' } })] as const;
          } catch (e) {
            const info = await module.getCompilationInfo?.().catch(() => undefined);
            const messages = info?.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
            throw new Da3Error('UNSUPPORTED', `WebGPU rasterizer: the ${k} shader did not compile on this device${messages ? ` (${messages})` : ''}: ${(e as Error).message}`, { cause: e });
          }
        }),
      );
      return Object.fromEntries(entries) as Pipelines;
    })();
    this.pipelines.catch(() => {
      this.pipelines = undefined;
    });
    return this.pipelines;
  }

  private upload(g: Gaussians): Scene {
    if (this.scene?.source === g) return this.scene;
    this.scene?.gauss.destroy();
    this.scene?.sh.destroy();
    this.scene = undefined;
    const packed = packGaussians(g);
    const gauss = createBuffer(this.device, packed.byteLength, STORAGE | COPY_DST, 'gaussians');
    this.device.queue.writeBuffer(gauss, 0, packed);
    const sh = createBuffer(this.device, Math.max(16, Math.ceil((g.harmonics.length * 4) / 16) * 16), STORAGE | COPY_DST, 'harmonics');
    // (writeBuffer takes shared-memory views too; lib.dom's typing of it does not say so)
    if (g.harmonics.length > 0) this.device.queue.writeBuffer(sh, 0, g.harmonics as Float32Array<ArrayBuffer>, 0, g.harmonics.length);
    this.scene = { source: g, gauss, sh };
    return this.scene;
  }

  /** Sizes the scan level buffers for scans of each of `lengths` (before any command is encoded). */
  private prepareScans(...lengths: number[]): void {
    for (const n of lengths) {
      scanLevels(n).forEach((blocks, level) => {
        this.scanSums[level] ??= new Growable(this.device, `scan level ${level}`);
        this.scanSums[level].ensure(4 * blocks);
      });
    }
  }

  private buf(name: string): GPUBuffer {
    return this.bufs[name].buffer!;
  }

  private async renderNow(gaussians: Gaussians, frame: RasterFrame, options: RasterizeOptions): Promise<RasterImage> {
    const what = 'Gaussian rendering';
    throwIfAborted(options.signal, what);
    const pipes = await this.compile();
    const device = this.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let image: RasterImage | undefined;
    let failure: unknown;
    try {
      image = await this.run(gaussians, frame, options, pipes);
    } catch (e) {
      failure = e;
    }
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    // A WebGPU error explains a failed mapAsync better than the mapAsync error itself.
    if (oom) throw new Da3Error('OUT_OF_MEMORY', `${what}: the GPU ran out of memory: ${oom.message}`, { cause: failure });
    if (validation) throw new Da3Error('UNSUPPORTED', `${what}: WebGPU error: ${validation.message}`, { cause: failure });
    if (failure !== undefined || !image) throw failure;
    return image;
  }

  /** The two GPU phases of one render (inside `renderNow`'s error scopes). */
  private async run(gaussians: Gaussians, frame: RasterFrame, options: RasterizeOptions, pipes: Pipelines): Promise<RasterImage> {
    const what = 'Gaussian rendering';
    const device = this.device;
    const { width, height } = frame;
    const G = frame.count;
    const tilesX = Math.ceil(width / TILE_SIZE);
    const tilesY = Math.ceil(height / TILE_SIZE);
    const tiles = tilesX * tilesY;
    const pixels = width * height;
    const N = Math.max(1, G);
    // Every buffer a phase uses is sized before its commands are encoded (growing one destroys it).
    const scene = this.upload(gaussians);
    this.writeFrame(frame, tilesX, tilesY);
    for (const n of ['keysA', 'valsA', 'keysB', 'valsB', 'counts', 'offsets']) this.bufs[n].ensure(4 * N);
    this.bufs.splats.ensure(48 * N);
    this.bufs.rects.ensure(16 * N);
    this.bufs.hist.ensure(4 * 16 * sortChunks(N).count);
    this.prepareScans(G, 16 * sortChunks(G).count);

    // Phase 1: project, sort by depth, scan the tile counts; read the number of intersections.
    this.params.reset();
    const enc1 = device.createCommandEncoder();
    this.dispatchThreads(enc1, pipes.project, [this.frame, scene.gauss, scene.sh, this.buf('splats'), this.buf('rects'), this.buf('counts'), this.buf('keysA'), this.buf('valsA')], N);
    const [, orderName] = this.radixSort(enc1, pipes, G, 32, ['keysA', 'valsA'], ['keysB', 'valsB']);
    const order = this.buf(orderName);
    const offsets = this.buf('offsets');
    this.dispatchThreads(enc1, pipes.gather, [this.slot(G), this.buf('counts'), order, offsets], G);
    const total = this.scan(enc1, pipes, offsets, G);
    enc1.copyBufferToBuffer(total, 0, this.staging, 0, 4);
    this.params.upload();
    device.queue.submit([enc1.finish()]);
    await this.staging.mapAsync(MAP_MODE_READ, 0, 4);
    const isects = G === 0 ? 0 : new Uint32Array(this.staging.getMappedRange(0, 4))[0];
    this.staging.unmap();
    throwIfAborted(options.signal, what);

    // Phase 2: (tile, Gaussian) pairs, stable sort by tile, tile ranges, compositing.
    const M = Math.max(1, isects);
    for (const n of ['tileKeysA', 'idsA', 'tileKeysB', 'idsB']) this.bufs[n].ensure(4 * M);
    this.bufs.hist.ensure(4 * 16 * sortChunks(M).count);
    this.prepareScans(16 * sortChunks(M).count);
    const ranges = this.bufs.ranges.ensure(8 * tiles);
    const imageBytes = 4 * pixels * 5;
    const image = this.bufs.image.ensure(imageBytes);
    const readback = this.readback.ensure(imageBytes);
    this.params.reset();
    const enc2 = device.createCommandEncoder();
    enc2.clearBuffer(ranges, 0, 8 * tiles);
    let ids = this.buf('idsA');
    if (isects > 0) {
      this.dispatchThreads(enc2, pipes.emit, [this.slot(G, 0, 0, tilesX), order, this.buf('counts'), offsets, this.buf('rects'), this.buf('tileKeysA'), this.buf('idsA')], G);
      const [keysName, idsName] = this.radixSort(enc2, pipes, isects, bitsFor(tiles), ['tileKeysA', 'idsA'], ['tileKeysB', 'idsB']);
      this.dispatchThreads(enc2, pipes.ranges, [this.slot(isects), this.buf(keysName), ranges], isects);
      ids = this.buf(idsName);
    }
    const pass = enc2.beginComputePass();
    pass.setPipeline(pipes.rasterize);
    pass.setBindGroup(0, this.bindGroup(pipes.rasterize, [this.frame, this.buf('splats'), ranges, ids, image]));
    pass.dispatchWorkgroups(Math.ceil(tilesX / TILES_PER_GROUP), tilesY);
    pass.end();
    enc2.copyBufferToBuffer(image, 0, readback, 0, imageBytes);
    this.params.upload();
    device.queue.submit([enc2.finish()]);
    await readback.mapAsync(MAP_MODE_READ, 0, imageBytes);
    const data = new Float32Array(readback.getMappedRange(0, imageBytes).slice(0));
    readback.unmap();
    throwIfAborted(options.signal, what);
    return {
      width,
      height,
      rgb: data.subarray(0, 3 * pixels),
      alpha: data.subarray(3 * pixels, 4 * pixels),
      ...(frame.withDepth ? { depth: data.subarray(4 * pixels, 5 * pixels) } : {}),
    };
  }

  /** The frame uniforms (see `Frame` in shaders.ts). */
  private writeFrame(frame: RasterFrame, tilesX: number, tilesY: number): void {
    const f = new Float32Array(FRAME_BYTES / 4);
    const u = new Uint32Array(f.buffer);
    const r = frame.rotation;
    const t = frame.translation;
    f.set([r[0], r[1], r[2], t[0], r[3], r[4], r[5], t[1], r[6], r[7], r[8], t[2]], 0);
    f.set([frame.fx, frame.fy, frame.cx, frame.cy], 12);
    f.set([...frame.cameraCentre, frame.near], 16);
    f.set([frame.far, frame.eps2d, frame.width, frame.height], 20);
    f.set([...frame.background, 0], 24);
    u.set([frame.count, frame.shCoefficients, frame.shDegree, tilesX], 28);
    u.set([tilesY, frame.width, frame.height, 0], 32);
    this.device.queue.writeBuffer(this.frame, 0, f);
  }

  /** A parameter slot holding (n, shift, blocks, extra), to bind as a dispatch's `params`. */
  private slot(n: number, shift = 0, blocks = 0, extra = 0): Resource {
    return { slot: this.params.push(n, shift, blocks, extra) };
  }

  private bindGroup(pipeline: GPUComputePipeline, resources: Resource[]): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: resources.map((r, binding) => ({
        binding,
        resource: 'slot' in r ? { buffer: this.params.buffer, offset: r.slot, size: 16 } : { buffer: r },
      })),
    });
  }

  /** One compute pass of `groups` workgroups (2-D past 65535: kernels index x + y · 65535). */
  private dispatch(enc: GPUCommandEncoder, pipeline: GPUComputePipeline, resources: Resource[], groups: number): void {
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.bindGroup(pipeline, resources));
    pass.dispatchWorkgroups(Math.max(1, Math.min(groups, MAX_GROUPS_X)), Math.max(1, Math.ceil(groups / MAX_GROUPS_X)));
    pass.end();
  }

  /** One thread per element over `n` elements (nothing for n = 0). */
  private dispatchThreads(enc: GPUCommandEncoder, pipeline: GPUComputePipeline, resources: Resource[], n: number): void {
    if (n > 0) this.dispatch(enc, pipeline, resources, Math.ceil(n / WORKGROUP));
  }

  /**
   * Exclusive scan of `n` u32 in `data` (in place), in levels of blocks whose sums go to the level
   * buffers (sized by `prepareScans`); returns the buffer whose first u32 is the total.
   */
  private scan(enc: GPUCommandEncoder, pipes: Pipelines, data: GPUBuffer, n: number, level = 0): GPUBuffer {
    const blocks = blocksOf(n);
    const sums = this.scanSums[level].buffer!;
    this.dispatchThreads(enc, pipes.scanBlocks, [this.slot(n, 0, blocks), data, sums], blocks);
    if (blocks === 1) return sums;
    const total = this.scan(enc, pipes, sums, blocks, level + 1);
    this.dispatchThreads(enc, pipes.scanAdd, [this.slot(n), data, sums], n);
    return total;
  }

  /**
   * Stable LSD radix sort of `n` (key, value) pairs on the low `bits` bits, 4 bits a pass,
   * ping-ponging between buffer pairs `a` and `b`; returns the names of the pair holding the result.
   */
  private radixSort(enc: GPUCommandEncoder, pipes: Pipelines, n: number, bits: number, a: [string, string], b: [string, string]): [string, string] {
    if (n <= 1) return a;
    const chunks = sortChunks(n);
    const hist = this.buf('hist');
    let src = a;
    let dst = b;
    for (let shift = 0; shift < bits; shift += 4) {
      this.dispatchThreads(enc, pipes.histogram, [this.slot(n, shift, chunks.count, chunks.size), this.buf(src[0]), hist], chunks.count);
      this.scan(enc, pipes, hist, 16 * chunks.count);
      this.dispatchThreads(enc, pipes.scatter, [this.slot(n, shift, chunks.count, chunks.size), this.buf(src[0]), this.buf(src[1]), hist, this.buf(dst[0]), this.buf(dst[1])], chunks.count);
      [src, dst] = [dst, src];
    }
    return src;
  }
}
