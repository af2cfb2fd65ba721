/**
 * gs_video frames against the reference's own `export_to_gs_video` (testdata/gs-video): with
 * gsplat replaced by a synthetic image (the same formula here, see
 * scripts/goldens/gs-video/shims/gsplat), the frames the reference hands to ffmpeg — colour,
 * white gap, Spectral depth with whole-video percentiles, hcat / vcat / none — equal ours byte
 * for byte.
 */
import { type GaussianRasterizer, type Gaussians, type RasterImage, type RenderCamera, type Sink, createPrediction, isDa3Error } from '@da3js/core';
import {
  GS_VIDEO_QUALITY,
  type GsVideoEncodeSpec,
  type GsVideoEncoder,
  type GsVideoProgress,
  expectedExportFiles,
  exportFormats,
  exportPrediction,
  gsVideoFrameSize,
  memorySink,
  quantileF32,
  writeGsVideo,
} from '@da3js/exporters';
import { describe, expect, it } from 'vitest';
import { loadTestdataJson, loadTestdataTensors } from '../../../test-utils/testdata.js';

interface Case {
  name: string;
  scene?: string;
  trj_mode?: string;
  frames?: number;
  frame_shape?: number[];
  kwargs?: { vis_depth?: 'hcat' | 'vcat' | null; video_quality?: 'low' | 'medium' | 'high' };
  tensors?: string[];
  ffmpeg_params?: string[];
  fps?: number;
  file?: string;
}
const meta = loadTestdataJson<{ scenes: Record<string, { views: number; hw: [number, number]; is_metric: number; scale_factor: number | null }>; cases: Case[] }>('gs-video/goldens.json');
const T = await loadTestdataTensors('gs-video/goldens.safetensors');

/** The golden's synthetic gsplat image of the g-th rendered frame (shims/gsplat). */
function synthetic(g: number, w: number, h: number): RasterImage {
  const rgb = new Float32Array(w * h * 3);
  const depth = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) rgb[(y * w + x) * 3 + c] = Math.fround(((x * 7 + y * 3 + g * 5 + c * 11) % 23) - 1) / 20;
      depth[y * w + x] = (x + y + g) % 13 === 0 ? 0 : 0.5 + ((x + 2 * y + 3 * g) % 17) * 0.25;
    }
  }
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.fround(rgb[i]);
  return { width: w, height: h, rgb, alpha: new Float32Array(w * h).fill(1), depth };
}

function syntheticRasterizer(): GaussianRasterizer & { cameras: RenderCamera[] } {
  const cameras: RenderCamera[] = [];
  return {
    name: 'synthetic',
    cameras,
    async render(_g: Gaussians, camera: RenderCamera): Promise<RasterImage> {
      cameras.push(camera);
      return synthetic(cameras.length - 1, camera.width, camera.height);
    },
    async dispose() {},
  };
}

function collectingEncoder(): GsVideoEncoder & { frames: Uint8Array[]; spec?: GsVideoEncodeSpec } {
  const enc: GsVideoEncoder & { frames: Uint8Array[]; spec?: GsVideoEncodeSpec } = {
    container: 'mp4',
    frames: [],
    async encode(frames, spec, sink) {
      enc.spec = spec;
      for await (const f of frames) {
        enc.frames.push(f.slice());
        await sink.write(f.subarray(0, 4));
      }
    },
  };
  return enc;
}

const gaussians: Gaussians = { count: 1, means: new Float32Array(3), scales: new Float32Array(3).fill(0.01), rotations: Float32Array.of(0, 0, 0, 1), harmonics: new Float32Array(3), shCoefficients: 1, opacities: Float32Array.of(0.5) };

function prediction(scene: string) {
  const s = meta.scenes[scene];
  const [h, w] = s.hw;
  return createPrediction({
    views: s.views,
    height: h,
    width: w,
    depth: new Float32Array(s.views * h * w),
    processedImages: new Uint8Array(s.views * h * w * 3),
    extrinsics: T[`scene/${scene}/extrinsics`].data as Float32Array,
    intrinsics: T[`scene/${scene}/intrinsics`].data as Float32Array,
    isMetric: !!s.is_metric,
    scaleFactor: s.scale_factor,
    gaussians,
  });
}

describe('gs_video frames vs the reference (synthetic rasterizer)', () => {
  const withFrames = meta.cases.filter((c) => c.tensors?.some((t) => t.endsWith('/frames')));
  it('has golden frames for hcat, vcat, no panel and NESTED', () => {
    expect(withFrames.map((c) => c.name).sort()).toEqual(['giant3/original/hcat', 'giant3/original/novis', 'giant3/original/vcat', 'nested3/original']);
  });
  for (const c of withFrames) {
    it(`${c.name}: every frame equals the reference's byte for byte`, async () => {
      const enc = collectingEncoder();
      const sink = memorySink();
      const panel = c.kwargs?.vis_depth === undefined ? 'hcat' : c.kwargs.vis_depth;
      const result = await writeGsVideo(prediction(c.scene!), sink, { trajectory: 'original', depthPanel: panel, rasterizer: syntheticRasterizer(), encoder: enc });
      const golden = T[`${c.name}/frames`];
      const [n, h, w] = golden.shape;
      expect([result.frames, result.height, result.width]).toEqual([n, h, w]);
      expect(enc.frames.length).toBe(n);
      const ref = golden.data as Uint8Array;
      let diff = 0;
      enc.frames.forEach((f, i) => {
        const r = ref.subarray(i * h * w * 3, (i + 1) * h * w * 3);
        for (let j = 0; j < r.length; j++) if (f[j] !== r[j]) diff++;
      });
      expect(diff).toBe(0);
      expect(sink.closed).toBe(true);
    });
  }

  it('the encoder spec follows the reference: 24 fps, libx264 crf/preset of the quality, frame count and size', async () => {
    for (const c of meta.cases.filter((x) => x.name === 'giant3/extend' || x.name.startsWith('giant3/smooth/'))) {
      const enc = collectingEncoder();
      const quality = c.kwargs?.video_quality ?? 'high';
      await writeGsVideo(prediction('giant3'), memorySink(), { trajectory: c.trj_mode as 'extend', quality, rasterizer: syntheticRasterizer(), encoder: enc });
      expect(enc.spec!.fps).toBe(c.fps);
      expect(enc.spec!.frames).toBe(c.frames);
      expect([enc.spec!.height, enc.spec!.width, 3]).toEqual(c.frame_shape);
      expect(['-crf', String(enc.spec!.crf), '-preset', enc.spec!.preset, '-pix_fmt', 'yuv420p']).toEqual(c.ffmpeg_params);
    }
    expect(GS_VIDEO_QUALITY).toEqual({ low: { crf: 28, preset: 'veryfast' }, medium: { crf: 23, preset: 'medium' }, high: { crf: 18, preset: 'slow' } });
  });
});

describe('gs_video export', () => {
  it('is an export format; its file is gs_video/0000_<trajectory>.mp4 (wander for one view)', () => {
    expect(exportFormats()).toContain('gs_video');
    expect(expectedExportFiles('gs_ply-gs_video', 3)).toEqual(['gs_ply/0000.ply', 'gs_video/0000_extend.mp4']);
    expect(expectedExportFiles('gs_video', 1)).toEqual(['gs_video/0000_wander.mp4']);
    expect(expectedExportFiles('gs_video', 3, { gsVideo: { trajectory: 'smooth', container: 'webm' } })).toEqual(['gs_video/0000_smooth.webm']);
  });

  it('writes through exportPrediction with the rasterizer and encoder given, with progress', async () => {
    const files = new Map<string, ReturnType<typeof memorySink>>();
    const open = (p: string) => {
      const s = memorySink();
      files.set(p, s);
      return s;
    };
    const events: GsVideoProgress[] = [];
    const enc = collectingEncoder();
    const written = await exportPrediction(prediction('giant3'), 'gs_video', open, { gsVideo: { trajectory: 'interpolate', rasterizer: syntheticRasterizer(), encoder: enc, onProgress: (e) => events.push(e) } });
    expect(written).toEqual(['gs_video/0000_interpolate.mp4']);
    expect(files.get('gs_video/0000_interpolate.mp4')!.closed).toBe(true);
    expect(events.filter((e) => e.stage === 'render').length).toBe(47);
    expect(events.filter((e) => e.stage === 'encode').length).toBe(47);
    expect(events.at(-1)).toEqual({ stage: 'encode', done: 47, total: 47 });
  });

  it('without a rasterizer or encoder: BAD_CONFIG naming what supplies them; without Gaussians: BAD_VALUE', async () => {
    await expect(writeGsVideo(prediction('giant3'), memorySink(), { rasterizer: syntheticRasterizer() })).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    const aborted: string[] = [];
    const open = (p: string): Sink => ({ write() {}, abort: () => void aborted.push(p) });
    await expect(exportPrediction(prediction('giant3'), 'gs_video', open)).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/@da3js\/node and @da3js\/web/) });
    expect(aborted).toEqual([]); // refused before the file is opened
    const bare = createPrediction({ ...prediction('giant3'), gaussians: null });
    await expect(exportPrediction(bare, 'gs_video', open)).rejects.toMatchObject({ code: 'BAD_VALUE' });
  });

  it('stops on abort between frames (ABORTED) and aborts the sink', async () => {
    const controller = new AbortController();
    const raster = syntheticRasterizer();
    const slow: GaussianRasterizer = {
      name: 'slow',
      render: async (g, c, o) => {
        if (raster.cameras.length === 5) controller.abort();
        return raster.render(g, c, o);
      },
      dispose: async () => {},
    };
    let abortedWith: unknown;
    const sink: Sink = { write() {}, abort: (e) => void (abortedWith = e) };
    const error = await writeGsVideo(prediction('giant3'), sink, { rasterizer: slow, encoder: collectingEncoder(), signal: controller.signal }).catch((e) => e);
    expect(isDa3Error(error, 'ABORTED')).toBe(true);
    expect(abortedWith).toBe(error);
    expect(raster.cameras.length).toBe(6);
  });

  it('pads odd frame sizes to even (H.264 4:2:0), black', async () => {
    expect(gsVideoFrameSize(41, 31, 'hcat')).toEqual({ width: 90, height: 32, contentWidth: 90, contentHeight: 31 });
    expect(gsVideoFrameSize(41, 31, null)).toEqual({ width: 42, height: 32, contentWidth: 41, contentHeight: 31 });
    const enc = collectingEncoder();
    await writeGsVideo(prediction('giant3'), memorySink(), { trajectory: 'original', renderSize: { height: 31, width: 41 }, depthPanel: null, rasterizer: syntheticRasterizer(), encoder: enc });
    expect([enc.spec!.width, enc.spec!.height]).toEqual([42, 32]);
    const f = enc.frames[0];
    expect(f.length).toBe(42 * 32 * 3);
    expect(f.subarray(31 * 42 * 3).every((v) => v === 0)).toBe(true);
  });

  it('quantileF32 is torch.quantile (linear, float32)', () => {
    expect(quantileF32(Float32Array.of(3, 1, 2, 4), 0.5)).toBe(2.5);
    expect(quantileF32(Float32Array.of(5), 0.99)).toBe(5);
    expect(quantileF32(Float32Array.of(0, 10), 0.99)).toBeCloseTo(9.9, 5);
    expect(Number.isNaN(quantileF32(Float32Array.of(1, Number.NaN), 0.5))).toBe(true);
  });
});
