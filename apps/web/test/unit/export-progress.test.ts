import { type Gaussians, type GaussianRasterizer, type RenderCamera, createCpuRasterizer } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine.js';
import { GS_VIDEO_RENDER_SHARE, exportProgressView } from '../../src/status.js';
import type { FromWorker, ToWorker } from '../../src/worker/protocol.js';
import { yieldingRasterizer } from '../../src/worker/yielding-rasterizer.js';

/** One red Gaussian 3 units in front of the camera (SH degree 0). */
function oneGaussian(): Gaussians {
  return {
    count: 1,
    means: new Float32Array([0, 0, 3]),
    scales: new Float32Array([0.3, 0.3, 0.3]),
    rotations: new Float32Array([0, 0, 0, 1]),
    harmonics: new Float32Array([1.5, -1.5, -1.5]),
    shCoefficients: 1,
    opacities: new Float32Array([0.9]),
  };
}
const camera: RenderCamera = { extrinsics: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], intrinsics: [40, 0, 16, 0, 40, 16, 0, 0, 1], width: 32, height: 32 };

describe('gs_video progress captions', () => {
  it('renders fill the first 85 % of the bar, frame by frame, then encoding fills the rest', () => {
    expect(exportProgressView({ stage: 'render', done: 37, total: 121 })).toEqual({ fraction: (GS_VIDEO_RENDER_SHARE * 37) / 121, caption: 'Rendering video frame 37 of 121' });
    expect(exportProgressView({ stage: 'render', done: 121, total: 121 }).fraction).toBeCloseTo(0.85, 12);
    expect(exportProgressView({ stage: 'encode', done: 1, total: 121 })).toEqual({ fraction: 0.85 + (0.15 * 1) / 121, caption: 'Encoding video frame 1 of 121' });
    expect(exportProgressView({ stage: 'encode', done: 121, total: 121 }).fraction).toBe(1);
    // never outside [0, 1], even for a degenerate event
    expect(exportProgressView({ stage: 'render', done: 3, total: 0 }).fraction).toBe(GS_VIDEO_RENDER_SHARE);
  });
});

/** A worker double that answers an export with the messages a real worker posts. */
class ScriptedWorker extends EventTarget {
  posted: ToWorker[] = [];
  constructor(private readonly answer: (msg: ToWorker) => FromWorker[]) {
    super();
  }
  postMessage(msg: ToWorker): void {
    this.posted.push(msg);
    queueMicrotask(() => {
      for (const m of this.answer(msg)) this.dispatchEvent(Object.assign(new Event('message'), { data: m }));
    });
  }
  terminate(): void {}
}

describe('Engine export progress', () => {
  it('passes the worker\'s export-progress messages to onExportProgress in order, then resolves with the files', async () => {
    const total = 4;
    const worker = new ScriptedWorker((msg) => {
      if (msg.type !== 'export') return [];
      const out: FromWorker[] = [];
      for (const stage of ['render', 'encode'] as const) for (let i = 1; i <= total; i++) out.push({ type: 'export-progress', id: msg.id, event: { stage, done: i, total } });
      // a message of another request is not this export's progress
      out.push({ type: 'export-progress', id: msg.id + 100, event: { stage: 'render', done: 9, total: 9 } });
      out.push({ type: 'exported', id: msg.id, files: [new File([new Uint8Array(3)], 'gs_video/0000_extend.mp4')] });
      return out;
    });
    const engine = new Engine(() => worker as unknown as Worker);
    const seen: string[] = [];
    const files = await engine.export('gs_video', { gsVideo: { trajectory: 'extend', quality: 'low' } }, { onExportProgress: (e) => seen.push(`${e.stage} ${e.done}/${e.total}`) });
    expect(seen).toEqual(['render 1/4', 'render 2/4', 'render 3/4', 'render 4/4', 'encode 1/4', 'encode 2/4', 'encode 3/4', 'encode 4/4']);
    expect(files.map((f) => f.name)).toEqual(['gs_video/0000_extend.mp4']);
    expect(worker.posted[0]).toMatchObject({ type: 'export', formats: 'gs_video', options: { gsVideo: { trajectory: 'extend', quality: 'low' } } });
    expect(engine.busy).toBe(false);
  });
});

describe('yieldingRasterizer', () => {
  async function renderFrames(r: GaussianRasterizer, frames: number): Promise<{ done: number; error: unknown }> {
    const ac = new AbortController();
    // What a worker's cancel message is: a macrotask queued while the frames render.
    setTimeout(() => ac.abort(new Error('cancelled')), 0);
    let done = 0;
    try {
      for (let i = 0; i < frames; i++) {
        await r.render(oneGaussian(), camera, { signal: ac.signal });
        done++;
      }
      return { done, error: null };
    } catch (error) {
      return { done, error };
    }
  }

  it('lets an abort queued as a macrotask stop the next frame (the plain CPU rasterizer renders them all)', async () => {
    const plain = await renderFrames(createCpuRasterizer(), 5);
    expect(plain).toEqual({ done: 5, error: null });
    const yielding = await renderFrames(yieldingRasterizer(createCpuRasterizer()), 5);
    expect(yielding.done).toBe(0);
    expect((yielding.error as { code?: string }).code).toBe('ABORTED');
  });

  it('renders the same image as the rasterizer it wraps', async () => {
    const a = await createCpuRasterizer().render(oneGaussian(), camera);
    const b = await yieldingRasterizer(createCpuRasterizer()).render(oneGaussian(), camera);
    expect(b.rgb).toEqual(a.rgb);
    // the Gaussian is drawn: the centre pixel is red
    const c = 3 * (16 * 32 + 16);
    expect(a.rgb[c]).toBeGreaterThan(0.5);
    expect(a.rgb[c + 1]).toBeLessThan(0.1);
  });
});
