import {
  Da3Error,
  REF_VIEW_STRATEGIES,
  applyRope2d,
  gatherViews,
  interpolateBilinearAlignCorners,
  interpolatePosEmbed,
  referenceViewOrder,
  ropePositions,
  scatterViews,
  selectReferenceView,
  uvGrid,
  uvPosEmbed,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { asFloat64, loadTensors } from '../helpers/fixtures.js';

/** float32 geometry tolerance (fixtures README §5). */
const F32 = { atol: 1e-5, rtol: 1e-5 };

describe('dpt_uv_pos_embed', () => {
  it('matches every stored case (embedding and UV grid)', async () => {
    const inp = await loadTensors('geometry/dpt_uv_pos_embed/inputs.safetensors');
    const out = await loadTensors('geometry/dpt_uv_pos_embed/outputs.safetensors');
    const cases = Object.keys(inp).filter((k) => k.startsWith('params_'));
    expect(cases).toHaveLength(3);
    for (const key of cases) {
      const [C, ph, pw, H, W] = Array.from(asFloat64(inp[key]));
      const tag = key.slice('params_'.length);
      const grid = tag.replace(/^C\d+_/, '');
      expectClose(uvPosEmbed(C, ph, pw, W, H), out[`pe_${tag}`].data as Float32Array, F32, `pe_${tag}`);
      expectClose(uvGrid(pw, ph, W / H), out[`uv_${grid}`].data as Float32Array, F32, `uv_${grid}`);
    }
  });
});

describe('vit_pos_embed_interp', () => {
  it('resizes the 37×37 grid with the +0.1 scale-factor rule for every image size', async () => {
    const inp = await loadTensors('geometry/vit_pos_embed_interp/inputs.safetensors');
    const out = await loadTensors('geometry/vit_pos_embed_interp/outputs.safetensors');
    const pe = inp.pos_embed.data as Float32Array;
    const C = inp.pos_embed.shape[2];
    const keys = Object.keys(out);
    expect(keys.length).toBe(5);
    for (const key of keys) {
      const [H, W] = key.replace('interp_', '').split('x').map(Number);
      const got = interpolatePosEmbed(pe, C, H, W);
      expect(got.length).toBe(out[key].data.length);
      expectClose(got, out[key].data as Float32Array, F32, key);
    }
  });

  it('rejects a wrong embedding size or an image that is not a multiple of 14', () => {
    expect(() => interpolatePosEmbed(new Float32Array(10), 8, 56, 84)).toThrowError(Da3Error);
    expect(() => interpolatePosEmbed(new Float32Array(1370 * 8), 8, 55, 84)).toThrowError(/multiple of 14/);
  });
});

describe('rope2d', () => {
  it('rotates q with local and global positions as the reference does', async () => {
    const inp = await loadTensors('geometry/rope2d/inputs.safetensors');
    const out = await loadTensors('geometry/rope2d/outputs.safetensors');
    const [, , N, hd] = inp.q.shape;
    const q = inp.q.data as Float32Array;
    for (const [pos, want] of [
      ['pos_local', 'rope_local'],
      ['pos_global', 'rope_global'],
    ] as const) {
      const positions = Int32Array.from(asFloat64(inp[pos]));
      expectClose(applyRope2d(q, positions, N, hd), out[want].data as Float32Array, F32, want);
    }
  });

  it('builds the positions of _prepare_rope', async () => {
    const inp = await loadTensors('geometry/rope2d/inputs.safetensors');
    const N = inp.pos_local.shape[1];
    const local = Array.from(asFloat64(inp.pos_local)).slice(0, N * 2);
    const global = Array.from(asFloat64(inp.pos_global)).slice(0, N * 2);
    const [gh, gw] = local.slice(-2);
    expect(gh * gw).toBe(N - 1);
    expect(Array.from(ropePositions(gh, gw))).toEqual(local);
    expect(Array.from(ropePositions(gh, gw, true))).toEqual(global);
  });
});

describe('ref_view_selection', () => {
  it('chooses and reorders exactly as every strategy of the reference', async () => {
    const inp = await loadTensors('geometry/ref_view_selection/inputs.safetensors');
    const out = await loadTensors('geometry/ref_view_selection/outputs.safetensors');
    const [B, S, N, C] = inp.x.shape;
    const x = inp.x.data as Float32Array;
    for (const strategy of REF_VIEW_STRATEGIES) {
      const want = Array.from(asFloat64(out[`${strategy}.b_idx`]));
      const reordered = new Float32Array(x.length);
      for (let b = 0; b < B; b++) {
        const batch = x.subarray(b * S * N * C, (b + 1) * S * N * C);
        const cls = new Float32Array(S * C);
        for (let s = 0; s < S; s++) cls.set(batch.subarray(s * N * C, s * N * C + C), s * C);
        const ref = selectReferenceView(cls, S, C, strategy);
        expect(ref, `${strategy} batch ${b}`).toBe(want[b]);
        const order = referenceViewOrder(S, ref);
        const moved = gatherViews(batch, order, N * C);
        reordered.set(moved, b * S * N * C);
        expect(Array.from(scatterViews(moved, order, N * C))).toEqual(Array.from(batch));
      }
      expect(Array.from(reordered)).toEqual(Array.from(out[`${strategy}.reordered`].data as Float32Array));
    }
  });

  it('picks a non-trivial view for saddle_balanced in this fixture (the test is not vacuous)', async () => {
    const out = await loadTensors('geometry/ref_view_selection/outputs.safetensors');
    expect(Array.from(asFloat64(out['saddle_balanced.b_idx'])).some((v) => v !== 0)).toBe(true);
  });

  it('rejects unknown strategies and out-of-range views', () => {
    expect(() => selectReferenceView(new Float32Array(6), 3, 2, 'best' as never)).toThrowError(/unknown strategy "best"/);
    expect(() => referenceViewOrder(3, 3)).toThrowError(/outside 0..2/);
    expect(Array.from(referenceViewOrder(5, 2))).toEqual([2, 0, 1, 3, 4]);
  });
});

describe('interpolate_bilinear', () => {
  it('matches F.interpolate(bilinear, align_corners=True) for a size and a ×2 scale', async () => {
    const inp = await loadTensors('geometry/interpolate_bilinear/inputs.safetensors');
    const out = await loadTensors('geometry/interpolate_bilinear/outputs.safetensors');
    const x = inp.x.data as Float32Array;
    const [, , h, w] = inp.x.shape;
    expectClose(interpolateBilinearAlignCorners(x, h, w, 7, 9), out.size_7x9.data as Float32Array, F32, 'size_7x9');
    expectClose(interpolateBilinearAlignCorners(x, h, w, 2 * h, 2 * w), out.scale2.data as Float32Array, F32, 'scale2');
  });

  it('rejects data that is not whole planes', () => {
    expect(() => interpolateBilinearAlignCorners(new Float32Array(5), 2, 2, 4, 4)).toThrowError(/planes/);
  });
});
