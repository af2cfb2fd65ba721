import { encodeOnnxModel, uvPosEmbed } from '@da3js/core';
import { GraphBuilder, shapeOf, uvPosEmbedding } from '@da3js/core/graph';
import { describe, expect, it } from 'vitest';
import { expectClose, maxAbsDiff } from '../helpers/compare.js';
import { type FixtureTensor, asFloat64, loadTensors } from '../helpers/fixtures.js';
import { runModel } from './parity-helpers.js';

/** In-graph UV embedding vs torch float32: a few ulps of the coordinates, times 0.1. */
const TOL = { atol: 1e-6, rtol: 1e-6 };

/** A graph computing the [C, h, w] embedding; h, w from a `map` input and H, W from an `image` input (shapes only). */
function uvGraph(channels: number): Promise<Uint8Array> {
  const g = new GraphBuilder({ name: 'uv' });
  const map = g.input('map', 'float32', [channels, 'h', 'w']);
  const image = g.input('image', 'float32', ['H', 'W']);
  const f = (v: string) => g.op('Cast', [v], { to: 1 });
  const aspect = g.op('Div', [f(shapeOf(g, image, 1, 2)), f(shapeOf(g, image, 0, 1))]);
  const pe = uvPosEmbedding(g, shapeOf(g, map, 1, 2), shapeOf(g, map, 2, 3), channels, aspect, { ratio: 0.1, omega0: 100 });
  g.output(pe, 'pe', 'float32', [channels, 'h', 'w']);
  return encodeOnnxModel(g.build());
}

const zeros = (shape: number[]): FixtureTensor => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

async function run(channels: number, h: number, w: number, H: number, W: number, bytes?: Uint8Array): Promise<Float32Array> {
  const out = await runModel(bytes ?? (await uvGraph(channels)), { map: zeros([channels, h, w]), image: zeros([H, W]) });
  expect(out.pe.dims).toEqual([channels, h, w]);
  return out.pe.data as Float32Array;
}

describe('in-graph UV position embedding', () => {
  it('matches the dpt_uv_pos_embed fixture cases', async () => {
    const inp = await loadTensors('geometry/dpt_uv_pos_embed/inputs.safetensors');
    const out = await loadTensors('geometry/dpt_uv_pos_embed/outputs.safetensors');
    const cases = Object.keys(inp).filter((k) => k.startsWith('params_'));
    expect(cases).toHaveLength(3);
    const report: Record<string, number> = {};
    for (const key of cases) {
      const [C, ph, pw, H, W] = Array.from(asFloat64(inp[key]));
      const tag = key.slice('params_'.length);
      const want = out[`pe_${tag}`].data as Float32Array;
      const got = await run(C, ph, pw, H, W);
      expectClose(got, want, TOL, `pe_${tag}`);
      report[tag] = maxAbsDiff(got, want);
    }
    console.log('uv fixture max|d|', JSON.stringify(report));
  });

  it('follows dynamic map and image sizes in one graph (host twin as reference)', async () => {
    const bytes = await uvGraph(32);
    for (const [h, w, H, W] of [
      [37, 37, 518, 518],
      [1, 1, 14, 14],
      [1, 7, 14, 98],
      [296, 296, 518, 518],
      [24, 36, 336, 504],
      [336, 504, 336, 504],
    ]) {
      const got = await run(32, h, w, H, W, bytes);
      expectClose(got, uvPosEmbed(32, h, w, W, H), TOL, `uv ${h}x${w} of ${H}x${W}`);
    }
  });
});
