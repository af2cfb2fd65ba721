import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Gaussians, isDa3Error } from '@da3js/core';
import { gunzipSync } from 'fflate';
// spz-js (MIT, a port of nianticlabs/spz) is the independent reader; deep imports avoid its
// playcanvas-based compressed-PLY modules.
import { loadPly } from 'spz-js/dist/ply-loader.js';
import { loadSpz, packGaussians } from 'spz-js/dist/spz-loader.js';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import {
  gaussianPruneIndices,
  gaussiansPlyProperties,
  pruneGaussians,
  readGaussiansPly,
  selectGaussians,
  type WriteGaussiansPlyOptions,
  type WriteSpzOptions,
  writeGaussiansPly,
  writeSpz,
} from '../src/gaussians/index.js';
import { plyElement, plyScalarColumn, readPly } from '../src/ply/index.js';
import { memorySink } from '../src/writer.js';
import { BLENDER, expectCodeAsync, requireBlender, watchedSink } from './helpers/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'da3js-gs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function prng(seed: number) {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return { u, normal };
}

/** Gaussians shaped like the DA3 adapter's: K = 9 (degree 2), scales 1e-5…1, unit xyzw rotations. */
function makeGaussians(count: number, seed = 1, K = 9): Gaussians {
  const r = prng(seed);
  const means = new Float32Array(3 * count).map(() => r.normal() * 2);
  const scales = new Float32Array(3 * count).map(() => Math.exp(-11.5 + 11.5 * r.u()));
  const rotations = new Float32Array(4 * count);
  for (let i = 0; i < count; i++) {
    const q = [r.normal(), r.normal(), r.normal(), r.normal()];
    const n = Math.hypot(...q);
    if (q[3] < 0) for (let a = 0; a < 4; a++) q[a] = -q[a]; // w ≥ 0 like mat_to_quat
    for (let a = 0; a < 4; a++) rotations[4 * i + a] = q[a] / n;
  }
  const harmonics = new Float32Array(3 * K * count);
  for (let i = 0; i < 3 * count; i++) {
    harmonics[i * K] = (r.u() - 0.5) * 4;
    for (let k = 1; k < K; k++) harmonics[i * K + k] = (r.u() - 0.5) * (k < 4 ? 0.1 : 0.025);
  }
  const opacities = new Float32Array(count).map(() => r.u());
  if (count > 2) {
    opacities[0] = 0;
    opacities[1] = 1;
  }
  return { count, means, scales, rotations, harmonics, shCoefficients: K, opacities };
}

async function gsPly(g: Gaussians, options?: WriteGaussiansPlyOptions) {
  const sink = memorySink();
  const result = await writeGaussiansPly(g, sink, options);
  expect(sink.closed).toBe(true);
  const bytes = sink.bytes();
  expect(result.bytes).toBe(bytes.length);
  return { bytes, result };
}

async function spz(g: Gaussians, options?: WriteSpzOptions) {
  const sink = memorySink();
  const result = await writeSpz(g, sink, options);
  expect(sink.closed).toBe(true);
  const bytes = sink.bytes();
  expect(result.bytes).toBe(bytes.length);
  return { bytes, result };
}

function headerText(bytes: Uint8Array): string {
  const end = new TextDecoder('latin1').decode(bytes.subarray(0, 8192)).indexOf('end_header\n') + 'end_header\n'.length;
  return new TextDecoder('latin1').decode(bytes.subarray(0, end));
}

function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

const G = 3000;
const gs = makeGaussians(G);

describe('3DGS PLY layouts', () => {
  it('sh3: exactly 62 float properties in the INRIA order, 248 bytes per vertex', async () => {
    const { bytes, result } = await gsPly(gs, { layout: 'sh3' });
    const rest = Array.from({ length: 45 }, (_, i) => `property float f_rest_${i}`);
    const props = [
      ...['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2'].map((p) => `property float ${p}`),
      ...rest,
      ...['opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'].map((p) => `property float ${p}`),
    ];
    expect(props.length).toBe(62);
    const text = headerText(bytes);
    expect(text.split('\n').filter((l) => l.startsWith('property'))).toEqual(props);
    expect(text).toMatch(/^ply\nformat binary_little_endian 1\.0\ncomment da3js 3D Gaussians \(sh3\)[^\n]*\nelement vertex 3000\n/);
    expect(result.properties).toBe(62);
    expect(result.bytesPerVertex).toBe(248);
    expect((bytes.length - text.length) / G).toBe(248);
  });

  it('sh0: 17 float properties (DA3 gs_ply), 68 bytes per vertex', async () => {
    const { bytes, result } = await gsPly(gs, { layout: 'sh0' });
    const text = headerText(bytes);
    expect(text.split('\n').filter((l) => l.startsWith('property'))).toEqual(
      'x y z nx ny nz f_dc_0 f_dc_1 f_dc_2 opacity scale_0 scale_1 scale_2 rot_0 rot_1 rot_2 rot_3'.split(' ').map((p) => `property float ${p}`),
    );
    expect(result.bytesPerVertex).toBe(68);
    expect((bytes.length - text.length) / G).toBe(68);
    expect(gaussiansPlyProperties('sh0').length).toBe(17);
  });

  it('comments: [] writes the bare reference header', async () => {
    const { bytes } = await gsPly(gs, { layout: 'sh0', comments: [] });
    expect(headerText(bytes).startsWith('ply\nformat binary_little_endian 1.0\nelement vertex 3000\nproperty float x\n')).toBe(true);
  });
});

describe('3DGS PLY round trips', () => {
  for (const layout of ['sh0', 'sh3'] as const) {
    it(`${layout}: stored values are bit-exact transforms; readGaussiansPly inverts them within 1e-6`, async () => {
      const { bytes } = await gsPly(gs, { layout });
      const { gaussians: back, layout: detected, file } = readGaussiansPly(bytes);
      expect(detected).toBe(layout);
      const v = plyElement(file, 'vertex');
      const col = (n: string) => plyScalarColumn(v, n);
      const K = gs.shCoefficients;
      let worstScale = 0;
      let worstOpacity = 0;
      for (let i = 0; i < G; i++) {
        for (let a = 0; a < 3; a++) {
          expect(col('xyz'[a])[i]).toBe(gs.means[3 * i + a]);
          expect(col(`n${'xyz'[a]}`)[i]).toBe(0);
          expect(col(`f_dc_${a}`)[i]).toBe(gs.harmonics[3 * K * i + a * K]);
          expect(col(`scale_${a}`)[i]).toBe(Math.fround(Math.log(gs.scales[3 * i + a])));
          worstScale = Math.max(worstScale, relErr(back.scales[3 * i + a], gs.scales[3 * i + a]));
        }
        const o = Math.min(Math.max(gs.opacities[i], 2 ** -149), 1 - 2 ** -24);
        expect(col('opacity')[i]).toBe(Math.fround(Math.log(Math.fround(o / Math.fround(1 - o)))));
        worstOpacity = Math.max(worstOpacity, relErr(back.opacities[i], o));
        // rot_0..3 = w x y z of the xyzw input.
        expect([0, 1, 2, 3].map((k) => col(`rot_${k}`)[i])).toEqual([3, 0, 1, 2].map((k) => gs.rotations[4 * i + k]));
      }
      // Inverse transforms.
      expect(back.count).toBe(G);
      expect(back.means).toEqual(gs.means);
      expect(back.rotations).toEqual(gs.rotations);
      expect(worstScale).toBeLessThan(1e-6);
      expect(worstOpacity).toBeLessThan(1e-6);
      // 0 and 1 (the reference writes ±inf) are stored as the logits of their float32 neighbours.
      expect(col('opacity')[0]).toBeCloseTo(-103.279, 2);
      expect(col('opacity')[1]).toBeCloseTo(16.636, 2);
      expect(back.opacities[0]).toBeLessThan(1e-44);
      expect(back.opacities[1]).toBe(Math.fround(1 - 2 ** -24));
      const Kb = back.shCoefficients;
      expect(Kb).toBe(layout === 'sh0' ? 1 : 16);
      for (let i = 0; i < G; i++) {
        for (let c = 0; c < 3; c++) {
          for (let k = 0; k < Kb; k++) {
            const want = k < K ? gs.harmonics[3 * K * i + c * K + k] : 0;
            expect(back.harmonics[3 * Kb * i + c * Kb + k]).toBe(want);
          }
        }
      }
      console.log(`gaussians ${layout}: max rel err scale ${worstScale.toExponential(2)}, opacity ${worstOpacity.toExponential(2)}`);
    });
  }

  it('f_rest is channel-major (INRIA): f_rest_{c·15+k−1} = harmonics[g, c, k]; spz-js loadPly agrees', async () => {
    const K = 9;
    const g = makeGaussians(4, 3);
    for (let i = 0; i < 4; i++) for (let c = 0; c < 3; c++) for (let k = 0; k < K; k++) g.harmonics[3 * K * i + c * K + k] = 1000 * i + 100 * c + k;
    const { bytes } = await gsPly(g, { layout: 'sh3' });
    const v = plyElement(readPly(bytes), 'vertex');
    for (let i = 0; i < 4; i++) {
      for (let c = 0; c < 3; c++) {
        for (let k = 1; k <= 15; k++) expect(plyScalarColumn(v, `f_rest_${c * 15 + k - 1}`)[i]).toBe(k < K ? 1000 * i + 100 * c + k : 0);
      }
    }
    // spz-js's INRIA PLY loader (independent): sh [N][coeff][rgb], rotations xyzw, log scale, logit opacity.
    const cloud = await loadPly(new Blob([bytes]).stream());
    expect(cloud.numPoints).toBe(4);
    expect(cloud.shDegree).toBe(3);
    for (let i = 0; i < 4; i++) {
      for (let k = 1; k <= 15; k++) for (let c = 0; c < 3; c++) expect(cloud.sh[(i * 15 + k - 1) * 3 + c]).toBe(k < K ? 1000 * i + 100 * c + k : 0);
      for (let a = 0; a < 4; a++) expect(cloud.rotations[4 * i + a]).toBe(g.rotations[4 * i + a]);
      for (let a = 0; a < 3; a++) expect(cloud.positions[3 * i + a]).toBe(g.means[3 * i + a]);
    }
    // higherOrder: 'zeros' is the reference's match_3dgs_mcmc_dev padding.
    const zeros = plyElement(readPly((await gsPly(g, { layout: 'sh3', higherOrder: 'zeros' })).bytes), 'vertex');
    for (let r = 0; r < 45; r++) expect(Array.from(plyScalarColumn(zeros, `f_rest_${r}`))).toEqual([0, 0, 0, 0]);
  });

  it("rotationOrder 'wxyz' writes the four numbers verbatim (the reference adapter's raw output)", async () => {
    const v = plyElement(readPly((await gsPly(gs, { layout: 'sh0', rotationOrder: 'wxyz' })).bytes), 'vertex');
    for (let i = 0; i < 50; i++) for (let k = 0; k < 4; k++) expect(plyScalarColumn(v, `rot_${k}`)[i]).toBe(gs.rotations[4 * i + k]);
  });

  it('ASCII and double-typed 3DGS PLYs read too (layout "other"); zero Gaussians give a valid file', async () => {
    const ascii = 'ply\nformat ascii 1.0\nelement vertex 1\nproperty double x\nproperty double y\nproperty double z\nproperty float f_dc_0\nproperty float f_dc_1\nproperty float f_dc_2\nproperty float opacity\nproperty float scale_0\nproperty float scale_1\nproperty float scale_2\nproperty float rot_0\nproperty float rot_1\nproperty float rot_2\nproperty float rot_3\nend_header\n1 2 3 0.5 0.25 0 0 0 0 0 1 0 0 0\n';
    const r = readGaussiansPly(new TextEncoder().encode(ascii));
    expect(r.layout).toBe('other');
    expect(Array.from(r.gaussians.means)).toEqual([1, 2, 3]);
    expect(r.gaussians.opacities[0]).toBe(0.5);
    expect(Array.from(r.gaussians.scales)).toEqual([1, 1, 1]);
    expect(Array.from(r.gaussians.rotations)).toEqual([0, 0, 0, 1]);
    const empty = makeGaussians(0);
    for (const layout of ['sh0', 'sh3'] as const) {
      const back = readGaussiansPly((await gsPly(empty, { layout })).bytes);
      expect(back.gaussians.count).toBe(0);
      expect(back.layout).toBe(layout);
    }
  });
});

/** torch.quantile(x, q) (linear) in float32: rank q·(n−1), two-sided lerp — independent of core. */
function torchQuantile(values: Float32Array, q: number): number {
  const s = Float32Array.from(values).sort();
  const f = Math.fround;
  const rank = f(f(q) * (s.length - 1));
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const w = f(rank - lo);
  const a = s[lo];
  const b = s[hi];
  return w < 0.5 ? f(a + f(w * f(b - a))) : f(b - f(f(b - a) * f(1 - w)));
}

/** The reference mask, literally: border slice [t:-t], depth ≤ per-view quantile, views[::k]. */
function referencePrune(depth: Float32Array, V: number, H: number, W: number, q = 0.9, k = 1): number[] {
  const th = Math.trunc((8 / 256) * H);
  const tw = Math.trunc((8 / 256) * W);
  const out: number[] = [];
  for (let b = 0; b < V; b += k) {
    const view = depth.subarray(b * H * W, (b + 1) * H * W);
    const limit = torchQuantile(view, q);
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const inside = v >= th && v < H - th && u >= tw && u < W - tw;
        if (inside && view[v * W + u] <= limit) out.push(b * H * W + v * W + u);
      }
    }
  }
  return out;
}

describe('pruneGaussians (the reference gs_ply rule)', async () => {
  const pred = await fixturePrediction('tiny', 'multi');
  const { views: V, height: H, width: W } = pred;

  it('matches the literal rule on the fixture depth (56×84: trims 1 row and 2 columns per side)', () => {
    const got = gaussianPruneIndices(pred);
    const want = referencePrune(pred.depth, V, H, W);
    expect(Array.from(got)).toEqual(want);
    // Sanity on sizes: border leaves 54×80 per view, the 0.9 quantile about 90 % of those.
    expect(got.length).toBeGreaterThan(0.8 * V * 54 * 80);
    expect(got.length).toBeLessThan(V * 54 * 80);
    expect(Array.from(gaussianPruneIndices(pred, { viewsInterval: 2 }))).toEqual(referencePrune(pred.depth, V, H, W, 0.9, 2));
    expect(Array.from(gaussianPruneIndices(pred, { depthQuantile: 0.5 }))).toEqual(referencePrune(pred.depth, V, H, W, 0.5));
  });

  it('options: no border, no depth pruning, auto interval; ties at the quantile are kept', () => {
    const layout = { views: 2, height: 64, width: 96, depth: new Float32Array(2 * 64 * 96).fill(1) };
    // All depths equal: quantile = 1, every pixel ≤ it; border trims 2 rows, 3 columns per side.
    expect(gaussianPruneIndices(layout).length).toBe(2 * 60 * 90);
    expect(gaussianPruneIndices(layout, { border: false, depthQuantile: null }).length).toBe(2 * 64 * 96);
    expect(gaussianPruneIndices(layout, { viewsInterval: 'auto' }).length).toBe(2 * 60 * 90); // max(⌊2/12⌋, 1) = 1
    const many = { views: 25, height: 32, width: 32, depth: new Float32Array(25 * 32 * 32).map((_, i) => i % 7) };
    const auto = gaussianPruneIndices(many, { viewsInterval: 'auto', depthQuantile: null });
    expect(new Set(Array.from(auto, (i) => Math.floor(i / 1024)))).toEqual(new Set([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]));
  });

  it('H or W below 32 trims nothing on that axis (the reference drops everything); non-finite depth is dropped', () => {
    const small = { views: 1, height: 20, width: 64, depth: new Float32Array(20 * 64).fill(2) };
    expect(gaussianPruneIndices(small).length).toBe(20 * (64 - 4));
    small.depth[5 * 64 + 10] = Number.NaN;
    small.depth[6 * 64 + 10] = Number.POSITIVE_INFINITY;
    const kept = Array.from(gaussianPruneIndices(small));
    expect(kept).not.toContain(5 * 64 + 10);
    expect(kept).not.toContain(6 * 64 + 10);
    expect(kept.length).toBe(20 * 60 - 2);
    const dead = { views: 1, height: 40, width: 40, depth: new Float32Array(1600).fill(Number.NaN) };
    expect(gaussianPruneIndices(dead).length).toBe(0);
  });

  it('pruneGaussians copies the kept Gaussians; writing with indices gives the same bytes', async () => {
    const g = makeGaussians(V * H * W, 9);
    const withG = { ...pred, gaussians: g };
    const keep = gaussianPruneIndices(withG);
    const pruned = pruneGaussians(withG);
    expect(pruned.count).toBe(keep.length);
    const sel = selectGaussians(g, keep);
    for (const k of ['means', 'scales', 'rotations', 'harmonics', 'opacities'] as const) expect(sameBits(pruned[k], sel[k]), k).toBe(true);
    expect(sel.count).toBe(keep.length);
    expect(pruned.means.subarray(0, 3)).toEqual(g.means.subarray(3 * keep[0], 3 * keep[0] + 3));
    const a = await gsPly(g, { layout: 'sh0', indices: keep });
    const b = await gsPly(pruned, { layout: 'sh0' });
    expect(sameBits(a.bytes, b.bytes)).toBe(true);
    const s1 = await spz(g, { indices: keep });
    const s2 = await spz(pruned);
    expect(sameBits(s1.bytes, s2.bytes)).toBe(true);
  });

  it('bad input: wrong Gaussian count for the layout, bad options, no gaussians', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(isDa3Error(e), String(e)).toBe(true);
        return (e as { code: string }).code;
      }
      return 'none';
    };
    expect(codeOf(() => gaussianPruneIndices({ ...pred, gaussians: makeGaussians(10) }))).toBe('BAD_SHAPE');
    expect(codeOf(() => gaussianPruneIndices({ views: 1, height: 2, width: 2, depth: new Float32Array(3) }))).toBe('BAD_SHAPE');
    expect(codeOf(() => gaussianPruneIndices(pred, { viewsInterval: 0 }))).toBe('BAD_VALUE');
    expect(codeOf(() => gaussianPruneIndices(pred, { depthQuantile: -1 }))).toBe('BAD_VALUE');
    expect(codeOf(() => pruneGaussians(pred))).toBe('BAD_VALUE');
    expect(codeOf(() => selectGaussians(gs, [G]))).toBe('BAD_VALUE');
  });
});

/** Angle between two rotations given as quaternions, radians. */
function quatAngle(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = Math.hypot(a[0], a[1], a[2], a[3]);
  const nb = Math.hypot(b[0], b[1], b[2], b[3]);
  const d = Math.abs(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]) / (na * nb);
  return 2 * Math.acos(Math.min(1, d));
}

describe('SPZ v2', () => {
  it('spz-js reads it back within the format quantisation (RUB conversion undone)', async () => {
    const { bytes, result } = await spz(gs);
    expect(result.shDegree).toBe(2);
    expect(result.fractionalBits).toBe(12);
    const cloud = await loadSpz(bytes);
    expect(cloud).not.toBeNull();
    expect(cloud.numPoints).toBe(G);
    expect(cloud.shDegree).toBe(2);
    expect(cloud.antialiased).toBe(false);
    const K = gs.shCoefficients;
    const flip = [1, -1, -1];
    const shFlip = [-1, -1, 1, -1, 1, 1, -1, 1];
    const worst = { pos: 0, logScale: 0, alpha: 0, color: 0, angle: 0, quat: 0, sh1: 0, sh2: 0 };
    let clamped = 0;
    for (let i = 0; i < G; i++) {
      for (let a = 0; a < 3; a++) {
        worst.pos = Math.max(worst.pos, Math.abs(cloud.positions[3 * i + a] - flip[a] * gs.means[3 * i + a]));
        const l = Math.log(gs.scales[3 * i + a]);
        const step = Math.round((l + 10) * 16);
        if (step >= 0 && step <= 255) worst.logScale = Math.max(worst.logScale, Math.abs(cloud.scales[3 * i + a] - l));
        else clamped++;
        const dc = gs.harmonics[3 * K * i + a * K];
        worst.color = Math.max(worst.color, Math.abs(cloud.colors[3 * i + a] - dc));
        for (let k = 1; k < K; k++) {
          const want = shFlip[k - 1] * gs.harmonics[3 * K * i + a * K + k];
          const got = cloud.sh[(i * 8 + k - 1) * 3 + a];
          if (k < 4) worst.sh1 = Math.max(worst.sh1, Math.abs(got - want));
          else worst.sh2 = Math.max(worst.sh2, Math.abs(got - want));
        }
      }
      worst.alpha = Math.max(worst.alpha, Math.abs(1 / (1 + Math.exp(-cloud.alphas[i])) - gs.opacities[i]));
      const q = gs.rotations.subarray(4 * i, 4 * i + 4);
      const want = [q[0], -q[1], -q[2], q[3]]; // xyzw in RUB
      const sign = (want[3] < 0 ? -1 : 1) / Math.hypot(...want);
      for (let a = 0; a < 3; a++) worst.quat = Math.max(worst.quat, Math.abs(cloud.rotations[4 * i + a] - sign * want[a]));
      worst.angle = Math.max(worst.angle, quatAngle(cloud.rotations.subarray(4 * i, 4 * i + 4), want));
    }
    expect(result.clampedScales).toBe(clamped);
    console.log(
      `spz: ${bytes.length} B for ${G} (${(bytes.length / G).toFixed(1)} B/pt, raw ${result.rawBytes}); max |d| pos ${worst.pos.toExponential(2)}, log-scale ${worst.logScale.toFixed(4)}, alpha ${worst.alpha.toFixed(4)}, dc ${worst.color.toFixed(4)}, rot xyz ${worst.quat.toFixed(4)} (angle ${worst.angle.toFixed(4)} rad), sh1 ${worst.sh1.toFixed(4)}, sh2 ${worst.sh2.toFixed(4)}; ${clamped} scales clamped`,
    );
    // The format's steps: position 2^-12 (error ≤ 2^-13), log scale 1/16, alpha 1/255, DC 1/38.25,
    // quaternion x y z 1/127.5, SH degree 1 1/16 (bucket 8/128), degree 2 1/8 (bucket 16/128);
    // errors are half a step (SH: plus half of the 1/128 pre-rounding).
    expect(worst.pos).toBeLessThanOrEqual(2 ** -13 + 1e-6);
    expect(worst.logScale).toBeLessThanOrEqual(1 / 32 + 1e-5);
    expect(worst.alpha).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    expect(worst.color).toBeLessThanOrEqual(0.5 / 38.25 + 1e-5);
    expect(worst.sh1).toBeLessThanOrEqual(4.5 / 128 + 1e-6);
    expect(worst.sh2).toBeLessThanOrEqual(8.5 / 128 + 1e-6);
    expect(worst.quat).toBeLessThanOrEqual(0.5 / 127.5 + 1e-6);
    // v2 rebuilds w = sqrt(1 − |xyz|²): the angle error grows as w → 0 (the reason SPZ v3 moved to
    // smallest-three); for these uniformly random rotations it stays below 0.25 rad.
    expect(worst.angle).toBeLessThan(0.25);
  });

  it("coordinates: 'source' equals spz-js's own packer (Niantic's port) byte for byte", async () => {
    const { bytes } = await spz(gs, { coordinates: 'source' });
    const raw = gunzipSync(bytes);
    const K = gs.shCoefficients;
    const cloud = {
      numPoints: G,
      shDegree: 2,
      antialiased: false,
      positions: gs.means,
      scales: gs.scales.map((s) => Math.log(s)),
      rotations: gs.rotations,
      alphas: gs.opacities.map((o) => {
        const c = Math.min(Math.max(o, 1e-7), 1 - 1e-7);
        return Math.log(c / (1 - c));
      }),
      colors: new Float32Array(3 * G).map((_, j) => gs.harmonics[K * j]),
      sh: new Float32Array(G * 8 * 3).map((_, j) => {
        const i = Math.floor(j / 24);
        const k = 1 + Math.floor((j % 24) / 3);
        const c = j % 3;
        return gs.harmonics[3 * K * i + c * K + k];
      }),
    };
    const p = packGaussians(cloud);
    const header = new Uint8Array(16);
    new DataView(header.buffer).setUint32(0, 0x5053474e, true);
    new DataView(header.buffer).setUint32(4, 2, true);
    new DataView(header.buffer).setUint32(8, G, true);
    header.set([2, 12, 0, 0], 12);
    const want = new Uint8Array(raw.length);
    let at = 0;
    for (const part of [header, p.positions, p.alphas, p.colors, p.scales, p.rotations, p.sh]) {
      want.set(part, at);
      at += part.length;
    }
    expect(at).toBe(raw.length);
    // Differences allowed only at exact rounding ties (JS Math.round vs C's round, float32 vs
    // float64 sigmoid), by one step.
    let differ = 0;
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] !== want[i]) {
        differ++;
        expect(Math.abs(raw[i] - want[i]), `byte ${i}`).toBeLessThanOrEqual(1);
      }
    }
    expect(differ).toBeLessThanOrEqual(raw.length * 1e-3);
    console.log(`spz vs spz-js packer: ${differ} of ${raw.length} bytes differ by one step`);
  });

  it('options: SH degree, antialiased flag, fractional bits lowered for large scenes, zero points', async () => {
    const d0 = await loadSpz((await spz(gs, { shDegree: 0, antialiased: true })).bytes);
    expect(d0.shDegree).toBe(0);
    expect(d0.antialiased).toBe(true);
    expect(d0.sh.length).toBe(0);
    const far = makeGaussians(10, 5);
    far.means[0] = 5000; // 5000·2^12 > 2^23 → 10 bits
    const r = await spz(far);
    expect(r.result.fractionalBits).toBe(10);
    const back = await loadSpz(r.bytes);
    expect(Math.abs(back.positions[0] - 5000)).toBeLessThan(2 ** -10);
    await expectCodeAsync(writeSpz(far, memorySink(), { fractionalBits: 12 }), 'BAD_VALUE');
    const empty = await spz(makeGaussians(0));
    expect(empty.result.count).toBe(0);
    expect((await loadSpz(empty.bytes)).numPoints).toBe(0);
    // Deterministic: no timestamp in the gzip header.
    expect((await spz(gs)).bytes).toEqual((await spz(gs)).bytes);
  });
});

describe('Gaussian writers: bad input', () => {
  const variants: [string, (g: Gaussians) => Gaussians, string][] = [
    ['NaN mean', (g) => ({ ...g, means: g.means.map((v, i) => (i === 7 ? Number.NaN : v)) }), 'NON_FINITE'],
    ['infinite harmonic', (g) => ({ ...g, harmonics: g.harmonics.map((v, i) => (i === 3 ? Number.POSITIVE_INFINITY : v)) }), 'NON_FINITE'],
    ['zero scale', (g) => ({ ...g, scales: g.scales.map((v, i) => (i === 4 ? 0 : v)) }), 'BAD_VALUE'],
    ['opacity > 1', (g) => ({ ...g, opacities: g.opacities.map((v, i) => (i === 2 ? 1.5 : v)) }), 'BAD_VALUE'],
    ['zero quaternion', (g) => ({ ...g, rotations: g.rotations.map((v, i) => (i < 4 ? 0 : v)) }), 'BAD_VALUE'],
    ['short means', (g) => ({ ...g, means: g.means.subarray(3) }), 'BAD_SHAPE'],
    ['harmonics for other K', (g) => ({ ...g, shCoefficients: 4 }), 'BAD_SHAPE'],
    ['Float64 means', (g) => ({ ...g, means: Float64Array.from(g.means) as unknown as Float32Array }), 'BAD_SHAPE'],
  ];
  for (const [label, mutate, code] of variants) {
    // The PLY stores log(scale) as the reference does (NaN / −inf), so only SPZ refuses a zero scale.
    const plyToo = label !== 'zero scale';
    it(`${label} → ${code}, sink aborted (${plyToo ? 'PLY and SPZ' : 'SPZ'})`, async () => {
      const g = mutate(makeGaussians(20, 4));
      type W = (s: ReturnType<typeof watchedSink>['sink']) => Promise<unknown>;
      const writers: W[] = [(s) => writeSpz(g, s)];
      if (plyToo) writers.push((s) => writeGaussiansPly(g, s));
      for (const write of writers) {
        const { sink, state } = watchedSink();
        await expectCodeAsync(write(sink), code);
        expect(state.aborted).toBe(true);
        expect(state.closed).toBe(false);
      }
    });
  }

  it('PLY: non-positive scales are written as log(scale) — NaN, −inf — like the reference', async () => {
    const g = makeGaussians(4, 3);
    const scales = Float32Array.from(g.scales);
    scales[0] = -0.25;
    scales[1] = 0;
    const v = plyElement(readPly((await gsPly({ ...g, scales }, { layout: 'sh0' })).bytes), 'vertex');
    expect(plyScalarColumn(v, 'scale_0')[0]).toBeNaN();
    expect(plyScalarColumn(v, 'scale_1')[0]).toBe(Number.NEGATIVE_INFINITY);
    expect(plyScalarColumn(v, 'scale_2')[0]).toBe(Math.fround(Math.log(scales[2])));
  });

  it('bad options and indices → BAD_VALUE', async () => {
    const g = makeGaussians(5, 2);
    await expectCodeAsync(writeGaussiansPly(g, memorySink(), { layout: 'sh2' as 'sh3' }), 'BAD_VALUE');
    await expectCodeAsync(writeGaussiansPly(g, memorySink(), { indices: [5] }), 'BAD_VALUE');
    await expectCodeAsync(writeGaussiansPly(g, memorySink(), { rotationOrder: 'zyxw' as 'xyzw' }), 'BAD_VALUE');
    await expectCodeAsync(writeSpz(g, memorySink(), { shDegree: 3 }), 'BAD_VALUE');
    await expectCodeAsync(writeSpz(g, memorySink(), { coordinates: 'luf' as 'rub' }), 'BAD_VALUE');
  });

  it('readGaussiansPly: a point PLY, truncated or malformed bytes → UNKNOWN_FORMAT', async () => {
    const { bytes } = await gsPly(makeGaussians(10, 2), { layout: 'sh3' });
    const points = new TextEncoder().encode('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n');
    const odd = new TextEncoder().encode('ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float f_rest_0\nend_header\n');
    for (const b of [points, bytes.subarray(0, bytes.length - 4), bytes.subarray(0, 100), odd, new Uint8Array([1, 2, 3])]) {
      try {
        readGaussiansPly(b);
        throw new Error('no error');
      } catch (e) {
        expect(isDa3Error(e, 'UNKNOWN_FORMAT'), String(e)).toBe(true);
      }
    }
  });
});

describe('Blender 3.4 imports the 3DGS PLYs', () => {
  it('sh0 and sh3 files give one mesh with one vertex per Gaussian', async (ctx) => {
    if (!requireBlender(ctx)) return;
    const f0 = join(tmp, 'gs-sh0.ply');
    const f3 = join(tmp, 'gs-sh3.ply');
    writeFileSync(f0, (await gsPly(gs, { layout: 'sh0' })).bytes);
    writeFileSync(f3, (await gsPly(gs, { layout: 'sh3' })).bytes);
    const results = runBlender([f0, f3]);
    expect(results.map((r) => [r.ok, r.vertices, r.faces])).toEqual([
      [true, G, 0],
      [true, G, 0],
    ]);
    // Blender keeps the positions (its importer reads x y z as given).
    for (const r of results) for (let a = 0; a < 3; a++) expect(r.first![a]).toBeCloseTo(gs.means[a], 5);
  });
});

const SCRIPT = join(__dirname, 'blender', 'ply_import.py');

function runBlender(files: string[]): { ok: boolean; vertices: number; faces: number; first?: number[]; error?: string }[] {
  const r = spawnSync(BLENDER, ['-b', '--factory-startup', '--python', SCRIPT, '--', ...files], { encoding: 'utf8', timeout: 120_000 });
  const lines = `${r.stdout}`.split('\n').filter((l) => l.startsWith('DA3JS_PLY '));
  if (lines.length !== files.length) throw new Error(`blender: expected ${files.length} results, got:\n${r.stdout}\n${r.stderr}`);
  return lines.map((l) => JSON.parse(l.slice('DA3JS_PLY '.length)));
}

/** Measurement only (DA3_PLY_BENCH=1): 1,000,000 Gaussians as sh0 / sh3 PLY and SPZ. */
describe.runIf(process.env.DA3_PLY_BENCH)('1M Gaussians (measurement)', () => {
  it('reports the times', async () => {
    const g = makeGaussians(1_000_000, 11);
    let bytes = 0;
    const sink = { write: (c: Uint8Array) => void (bytes += c.length) };
    for (const layout of ['sh0', 'sh3'] as const) {
      const t0 = performance.now();
      const r = await writeGaussiansPly(g, sink, { layout });
      console.log(`writeGaussiansPly 1M ${layout}: ${(performance.now() - t0).toFixed(0)} ms, ${r.bytes} bytes`);
    }
    const t0 = performance.now();
    const r = await writeSpz(g, sink);
    console.log(`writeSpz 1M: ${(performance.now() - t0).toFixed(0)} ms, ${r.bytes} bytes (raw ${r.rawBytes})`);
    expect(bytes).toBeGreaterThan(0);
  });
});
