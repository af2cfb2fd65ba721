import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Prediction, createPrediction, isDa3Error } from '@da3js/core';
import { decode as decodePng } from 'fast-png';
import { decode as decodeJpeg } from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import {
  SPECTRAL_CONTROL_POINTS,
  colorizeConf,
  colorizeDepth,
  encodeJpeg,
  percentileNumpyF32,
  renderConfVis,
  renderDepthVis,
  spectralLut,
  spectralLutBytes,
  writeConfVisJpeg,
  writeConfVisPng,
  writeDepthVisJpeg,
  writeDepthVisPng,
} from '../src/images/index.js';
import { memorySink } from '../src/writer.js';
import { watchedSink } from './helpers/shared.js';
import { requireTool } from '../../../test-utils/tools.js';

// Debian's python3 with python3-numpy and python3-matplotlib (NOT a pyenv python).
const PY = '/usr/bin/python3';
const SCRIPT = join(__dirname, 'python', 'check_vis.py');
const hasMatplotlib = spawnSync(PY, ['-c', 'import numpy, matplotlib'], { encoding: 'utf8' }).status === 0;
const NO_MPL = `${PY} cannot import numpy + matplotlib: apt-get install -y python3-numpy python3-matplotlib (Debian's python3, not pyenv)`;


const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** matplotlib 3.6.3 `Spectral` table entries, uint8(lut·255), for checks without matplotlib. */
const KNOWN_BYTES: Record<number, [number, number, number]> = {
  0: [158, 1, 66],
  1: [160, 3, 66],
  64: [248, 142, 82],
  127: [254, 254, 189],
  128: [254, 254, 190],
  200: [112, 198, 164],
  255: [94, 79, 162],
};

function px(img: { width: number; channels: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * img.width + x) * img.channels;
  return Array.from(img.data.subarray(i, i + 3));
}

/** A one-view prediction around a depth map (H×W), grey image. */
function single(depth: Float32Array, H: number, W: number, conf: Float32Array | null = null): Prediction {
  return createPrediction({ views: 1, height: H, width: W, depth, conf, processedImages: new Uint8Array(H * W * 3).fill(128) });
}

describe('Spectral lookup table', () => {
  it('ends at the ColorBrewer end colours and matches known matplotlib entries', () => {
    const lut = spectralLut();
    expect(lut.length).toBe(256 * 3);
    expect(Array.from(lut.subarray(0, 3))).toEqual([...SPECTRAL_CONTROL_POINTS[0]]);
    expect(Array.from(lut.subarray(255 * 3))).toEqual([...SPECTRAL_CONTROL_POINTS[10]]);
    const b = spectralLutBytes();
    for (const [i, rgb] of Object.entries(KNOWN_BYTES)) expect(Array.from(b.subarray(+i * 3, +i * 3 + 3)), `entry ${i}`).toEqual(rgb);
    // matplotlib 3.6.3 float64 entry 1 (red channel), exactly.
    expect(lut[3]).toBe(0.6280661284121491);
  });
});

describe('numpy percentile (float32 input, linear)', () => {
  it('interpolates like np.percentile', () => {
    const s = Float32Array.from([0, 1, 2, 3, 10]);
    expect(percentileNumpyF32(s, 50)).toBe(2);
    expect(percentileNumpyF32(s, 0)).toBe(0);
    expect(percentileNumpyF32(s, 100)).toBe(10);
    expect(percentileNumpyF32(s, 90)).toBeCloseTo(7.2, 12);
    expect(percentileNumpyF32(Float32Array.from([5]), 2)).toBe(5);
  });
});

describe('depth_vis / conf_vis of the tiny/multi prediction', () => {
  let pred: Prediction;
  let dir = '';
  beforeAll(async () => {
    pred = await fixturePrediction('tiny', 'multi');
    dir = mkdtempSync(join(tmpdir(), 'da3js-vis-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('PNG: [RGB | colour] at 2W×H, nearest pixel red-ish, farthest blue-ish, left half = processed image', async () => {
    const { height: H, width: W } = pred;
    for (let v = 0; v < pred.views; v++) {
      const sink = memorySink();
      const n = await writeDepthVisPng(pred, v, sink);
      const png = decodePng(sink.bytes());
      expect(n).toBe(sink.bytes().length);
      expect([png.width, png.height, png.channels, png.depth]).toEqual([2 * W, H, 3, 8]);
      const data = png.data as Uint8Array;
      const img = { width: 2 * W, channels: 3, data };
      // Left half: the processed image itself.
      expect(px(img, 5, 7)).toEqual(Array.from(pred.processedImages.subarray(((v * H + 7) * W + 5) * 3, ((v * H + 7) * W + 5) * 3 + 3)));
      // Nearest / farthest valid pixel.
      const depth = pred.depth.subarray(v * H * W, (v + 1) * H * W);
      let near = 0;
      let far = 0;
      for (let i = 0; i < depth.length; i++) {
        if (depth[i] < depth[near]) near = i;
        if (depth[i] > depth[far]) far = i;
      }
      const cn = px(img, W + (near % W), Math.floor(near / W));
      const cf = px(img, W + (far % W), Math.floor(far / W));
      expect(cn, 'nearest is red').toEqual(KNOWN_BYTES[0]);
      expect(cf, 'farthest is blue').toEqual(KNOWN_BYTES[255]);
      expect(cn[0]).toBeGreaterThan(cn[2]);
      expect(cf[2]).toBeGreaterThan(cf[0]);
      // Same pixels as renderDepthVis.
      expect(Buffer.from(data).equals(renderDepthVis(pred, v).data)).toBe(true);
      if (v === 0) console.info(`depth_vis view 0: PNG ${n} bytes (${2 * W}×${H})`);
    }
  });

  it('JPEG (quality 95) decodes to the same size and stays close to the PNG pixels', async () => {
    const sink = memorySink();
    const n = await writeDepthVisJpeg(pred, 1, sink);
    const jpg = decodeJpeg(sink.bytes(), { useTArray: true, formatAsRGBA: false });
    expect([jpg.width, jpg.height]).toEqual([2 * pred.width, pred.height]);
    const ref = renderDepthVis(pred, 1).data;
    let sum = 0;
    for (let i = 0; i < ref.length; i++) sum += Math.abs(ref[i] - jpg.data[i]);
    const mae = sum / ref.length;
    console.info(`depth_vis view 1: JPEG q95 ${n} bytes, mean |Δ| ${mae.toFixed(2)} vs PNG`);
    expect(mae).toBeLessThan(4);
    const c = memorySink();
    await writeConfVisJpeg(pred, 0, c, { quality: 80 });
    expect(decodeJpeg(c.bytes(), { useTArray: true }).width).toBe(2 * pred.width);
    // Browsers have no Buffer: the encoder still returns bytes and leaves no global behind.
    const saved = (globalThis as { Buffer?: unknown }).Buffer;
    Reflect.deleteProperty(globalThis, 'Buffer');
    try {
      const bytes = encodeJpeg({ width: 2, height: 2, channels: 3, data: new Uint8Array(12).fill(200) });
      expect(bytes[0]).toBe(0xff);
      expect(bytes[1]).toBe(0xd8);
      expect('Buffer' in globalThis).toBe(false);
    } finally {
      (globalThis as { Buffer?: unknown }).Buffer = saved;
    }
  });

  it('conf_vis: PNG 2W×H, highest confidence red, lowest blue', async () => {
    const sink = memorySink();
    await writeConfVisPng(pred, 2, sink, { channels: 4 });
    const png = decodePng(sink.bytes());
    expect([png.width, png.height, png.channels]).toEqual([2 * pred.width, pred.height, 4]);
    const { height: H, width: W } = pred;
    const conf = pred.conf!.subarray(2 * H * W, 3 * H * W);
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < conf.length; i++) {
      if (conf[i] > conf[hi]) hi = i;
      if (conf[i] < conf[lo]) lo = i;
    }
    const img = { width: 2 * W, channels: 4, data: png.data as Uint8Array };
    expect(px(img, W + (hi % W), Math.floor(hi / W))).toEqual(KNOWN_BYTES[0]);
    expect(px(img, W + (lo % W), Math.floor(lo / W))).toEqual(KNOWN_BYTES[255]);
    expect(img.data[3]).toBe(255);
  });

  it('equals the reference visualize_depth (NumPy + matplotlib) pixel for pixel; LUT equals matplotlib Spectral(256) exactly', async (ctx) => {
    if (!requireTool(ctx, hasMatplotlib, NO_MPL)) return;
    const { height: H, width: W } = pred;
    const cases: { name: string; kind: 'depth' | 'conf'; file: string; shape: number[]; ours: string; range: readonly [number, number]; percentile?: number }[] = [];
    const add = (name: string, kind: 'depth' | 'conf', v: Float32Array, h: number, w: number, percentile?: number) => {
      const c = kind === 'depth' ? colorizeDepth(v, { percentile }) : colorizeConf(v, { percentile });
      writeFileSync(join(dir, `${name}.f32`), bytesOf(v));
      writeFileSync(join(dir, `${name}.rgb`), c.rgb);
      cases.push({ name, kind, file: `${name}.f32`, shape: [h, w], ours: `${name}.rgb`, range: c.range, percentile });
    };
    for (let v = 0; v < pred.views; v++) {
      add(`depth_view${v}`, 'depth', pred.depth.slice(v * H * W, (v + 1) * H * W), H, W);
      add(`conf_view${v}`, 'conf', pred.conf!.slice(v * H * W, (v + 1) * H * W), H, W);
    }
    // Non-finite and non-positive depth.
    const poked = pred.depth.slice(0, H * W);
    const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, -3, 1e-45, 3.4e38, 1e-30];
    for (let k = 0; k < 300; k++) poked[(k * 7919) % poked.length] = specials[k % specials.length];
    add('depth_specials', 'depth', poked, H, W);
    add('depth_specials_p10', 'depth', poked, H, W, 10);
    // ≤ 10 valid pixels (range 0 ± 1e-6), with NaN and negatives around.
    const few = new Float32Array(H * W);
    for (let k = 0; k < 10; k++) few[k * 97] = 0.5 + k;
    few[5] = Number.NaN;
    few[6] = -2;
    add('depth_10_valid', 'depth', few, H, W);
    few[7] = 3;
    add('depth_11_valid', 'depth', few, H, W);
    // Constant depth (percentiles equal → ±1e-6) and a wide dynamic range.
    add('depth_constant', 'depth', new Float32Array(H * W).fill(2.5), H, W);
    const wide = new Float32Array(100 * 100);
    let s = 7;
    for (let i = 0; i < wide.length; i++) wide[i] = Math.exp(((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 20 - 10);
    add('depth_wide', 'depth', wide, 100, 100);
    const confNan = pred.conf!.slice(0, H * W);
    confNan[3] = Number.NaN;
    confNan[4] = Number.POSITIVE_INFINITY;
    add('conf_specials', 'conf', confNan, H, W);

    writeFileSync(join(dir, 'lut.f64'), bytesOf(spectralLut()));
    writeFileSync(join(dir, 'lut.u8'), spectralLutBytes());
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ lut: 'lut.f64', lut_bytes: 'lut.u8', cases }));
    const run = spawnSync(PY, [SCRIPT, dir], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    console.info(`matplotlib ${result.matplotlib}, numpy ${result.numpy}: LUT ${JSON.stringify(result.lut)}; ${cases.length} maps, ${Object.values(result.cases as Record<string, { pixels: number; mismatches: number }>).reduce((a, c) => a + c.pixels, 0)} pixels compared`);
    expect(result.errors).toEqual([]);
    expect(result.lut.float64_mismatches).toBe(0);
    expect(result.lut.byte_mismatches).toBe(0);
    for (const c of Object.values(result.cases as Record<string, { mismatches: number }>)) expect(c.mismatches).toBe(0);
  });
});

describe('edge cases', () => {
  it('a fixed pixel lands on the expected table entry (disparity 0.5 of range [0, 1] → entry 128)', () => {
    const depth = Float32Array.from([2, 4, 1, 1 / 0.25]);
    const img = renderDepthVis(single(depth, 2, 2), 0, { range: [0, 1], withImage: false });
    expect([img.width, img.height]).toEqual([2, 2]);
    expect(px(img, 0, 0)).toEqual(KNOWN_BYTES[128]); // disparity 0.5 → x = 0.5 → int(0.5·256) = 128
    expect(px(img, 1, 1)).toEqual(Array.from(spectralLutBytes().subarray(192 * 3, 193 * 3))); // 0.25 → 1 − 0.25 → 192
    expect(px(img, 0, 1)).toEqual(KNOWN_BYTES[0]); // disparity 1 → nearest → red
  });

  it('≤ 10 valid pixels: range 0 ± 1e-6, valid pixels red, zero depth mid-scale, NaN black', () => {
    const depth = new Float32Array(64);
    for (let k = 0; k < 10; k++) depth[k * 6] = 1 + k;
    depth[1] = Number.NaN;
    const c = colorizeDepth(depth);
    expect(c.valid).toBe(10);
    expect(c.range).toEqual([-1e-6, 1e-6]);
    const at = (i: number) => Array.from(c.rgb.subarray(i * 3, i * 3 + 3));
    expect(at(0)).toEqual(KNOWN_BYTES[0]);
    expect(at(2)).toEqual(KNOWN_BYTES[128]);
    expect(at(1)).toEqual([0, 0, 0]);
  });

  it('NaN depth is black, +∞ depth (disparity 0) is far blue, −∞ / negative are blue', () => {
    const depth = new Float32Array(100);
    for (let i = 0; i < 100; i++) depth[i] = 1 + i / 10;
    depth[3] = Number.NaN;
    depth[4] = Number.POSITIVE_INFINITY;
    depth[5] = Number.NEGATIVE_INFINITY;
    depth[6] = -1;
    const c = colorizeDepth(depth);
    const at = (i: number) => Array.from(c.rgb.subarray(i * 3, i * 3 + 3));
    expect(at(3)).toEqual([0, 0, 0]);
    expect(at(4)).toEqual(KNOWN_BYTES[255]);
    expect(at(5)).toEqual(KNOWN_BYTES[255]);
    expect(at(6)).toEqual(KNOWN_BYTES[255]);
    expect(c.valid).toBe(97);
    const all = colorizeDepth(new Float32Array(9).fill(Number.NaN));
    expect(all.rgb.every((b) => b === 0)).toBe(true);
  });

  it('bad inputs → typed errors, and the sink is aborted', async () => {
    const p = single(new Float32Array(4).fill(1), 2, 2);
    const cases: [() => Promise<unknown>, string][] = [];
    const attempt = (code: string, fn: (sink: ReturnType<typeof watchedSink>['sink']) => Promise<unknown>) => cases.push([() => fn(current.sink), code]);
    let current = watchedSink();
    attempt('OUT_OF_RANGE', (s) => writeDepthVisPng(p, 1, s));
    attempt('OUT_OF_RANGE', (s) => writeDepthVisJpeg(p, -1, s));
    attempt('BAD_VALUE', (s) => writeConfVisPng(p, 0, s));
    attempt('BAD_SHAPE', (s) => writeDepthVisPng({ ...p, depth: new Float32Array(3) } as Prediction, 0, s));
    attempt('BAD_SHAPE', (s) => writeDepthVisPng({ ...p, processedImages: new Uint8Array(3) } as Prediction, 0, s));
    attempt('EMPTY_INPUT', (s) => writeDepthVisPng({ ...p, width: 0 } as Prediction, 0, s));
    attempt('BAD_VALUE', (s) => writeDepthVisPng(p, 0, s, { percentile: 60 }));
    attempt('NON_FINITE', (s) => writeDepthVisPng(p, 0, s, { range: [0, Number.NaN] }));
    attempt('BAD_VALUE', (s) => writeDepthVisJpeg(p, 0, s, { quality: 0 }));
    attempt('BAD_VALUE', (s) => writeDepthVisPng(p, 0, s, { channels: 2 as 3 }));
    for (const [run, code] of cases) {
      current = watchedSink();
      const err = await run().then(
        () => null,
        (e) => e,
      );
      expect(isDa3Error(err), `${code}: ${err}`).toBe(true);
      expect(err.code).toBe(code);
      expect(current.state.aborted, code).toBe(true);
      expect(current.state.closed, code).toBe(false);
    }
    expect(() => renderConfVis(p, 0)).toThrow(/no conf/);
  });
});
