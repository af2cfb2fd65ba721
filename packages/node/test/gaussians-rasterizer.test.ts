import { Da3Error, type Gaussians, createCpuRasterizer } from '@da3js/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGsplatGoldens, maxAbsDiff } from '../../../test-utils/gsplat-goldens.js';
import { createNodeCpuRasterizer } from '../src/gaussians/cpu-rasterizer.js';

const same = (a: Float32Array | undefined, b: Float32Array | undefined): boolean =>
  a !== undefined && b !== undefined && a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A cloud of random Gaussians big enough to give every thread several tile rows. */
function cloud(n: number, seed = 5): Gaussians {
  let s = seed;
  const r = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const K = 9;
  const g: Gaussians = {
    count: n,
    means: Float32Array.from({ length: 3 * n }, (_, i) => (i % 3 === 2 ? 2 + 3 * r() : 2 * r() - 1)),
    scales: Float32Array.from({ length: 3 * n }, () => 0.005 + 0.03 * r()),
    rotations: Float32Array.from({ length: 4 * n }, () => r() - 0.5),
    harmonics: Float32Array.from({ length: 3 * K * n }, (_, i) => (i % K === 0 ? 2 * r() - 1 : 0.2 * (r() - 0.5))),
    shCoefficients: K,
    opacities: Float32Array.from({ length: n }, () => 0.1 + 0.9 * r()),
  };
  return g;
}
const CAM = { extrinsics: [0.99, 0, 0.141, 0.05, 0, 1, 0, -0.02, -0.141, 0, 0.99, 0.1], intrinsics: [90, 0, 61, 0, 90, 47.5, 0, 0, 1], width: 123, height: 95 };

describe('createNodeCpuRasterizer (worker_threads)', async () => {
  const cases = await loadGsplatGoldens();
  const two = createNodeCpuRasterizer({ threads: 2 });
  const three = createNodeCpuRasterizer({ threads: 3 });
  const single = createCpuRasterizer();
  afterAll(async () => {
    await two.dispose();
    await three.dispose();
  });

  it('matches every gsplat golden within 1e-3 and is bit-identical to the single-threaded rasterizer', async () => {
    for (const c of cases) {
      const got = await two.render(c.gaussians, c.camera, c.options);
      const ref = await single.render(c.gaussians, c.camera, c.options);
      expect(maxAbsDiff(got.rgb, c.rgb).max, `${c.name} rgb`).toBeLessThanOrEqual(1e-3);
      expect(maxAbsDiff(got.alpha, c.alpha).max, `${c.name} alpha`).toBeLessThanOrEqual(1e-3);
      if (c.depth) expect(maxAbsDiff(got.depth as Float32Array, c.depth).max, `${c.name} depth`).toBeLessThanOrEqual(1e-3);
      expect(same(got.rgb, ref.rgb), `${c.name} rgb identical`).toBe(true);
      expect(same(got.alpha, ref.alpha), `${c.name} alpha identical`).toBe(true);
      if (c.depth) expect(same(got.depth, ref.depth), `${c.name} depth identical`).toBe(true);
      else expect(got.depth).toBeUndefined();
    }
  });

  it('1, 2 and 3 threads give identical images on a larger scene (and across repeated and concurrent renders)', async () => {
    const g = cloud(20_000);
    const opts = { renderMode: 'RGB+ED' as const, background: [0.1, 0.2, 0.3] as [number, number, number] };
    const ref = await single.render(g, CAM, opts);
    const one = createNodeCpuRasterizer({ threads: 1 });
    try {
      const results = await Promise.all([two.render(g, CAM, opts), three.render(g, CAM, opts), one.render(g, CAM, opts), two.render(g, CAM, opts)]);
      for (const r of results) {
        expect(same(r.rgb, ref.rgb)).toBe(true);
        expect(same(r.alpha, ref.alpha)).toBe(true);
        expect(same(r.depth, ref.depth)).toBe(true);
      }
      expect(ref.alpha.some((a) => a > 0.5)).toBe(true);
    } finally {
      await one.dispose();
    }
  });

  it('follows a changed scene object and a smaller frame after a bigger one', async () => {
    const a = cloud(3000, 1);
    const b = cloud(5000, 2);
    for (const [g, cam] of [
      [a, CAM],
      [b, { ...CAM, width: 40, height: 33 }],
      [a, { ...CAM, width: 17, height: 70 }],
    ] as const) {
      const got = await three.render(g, cam, { renderMode: 'RGB+ED' });
      const ref = await single.render(g, cam, { renderMode: 'RGB+ED' });
      expect(got.rgb.length).toBe(3 * cam.width * cam.height);
      expect(same(got.rgb, ref.rgb)).toBe(true);
      expect(same(got.depth, ref.depth)).toBe(true);
    }
  });

  it('rejects bad input with typed errors, before touching the workers', async () => {
    const g = cloud(10);
    const codes = async (p: Promise<unknown>): Promise<string | undefined> =>
      p.then(
        () => undefined,
        (e: unknown) => (e instanceof Da3Error ? e.code : `not a Da3Error: ${String(e)}`),
      );
    expect(await codes(two.render(g, { ...CAM, width: 0 }))).toBe('BAD_VALUE');
    expect(await codes(two.render(g, { ...CAM, extrinsics: [Number.NaN, ...CAM.extrinsics.slice(1)] }))).toBe('NON_FINITE');
    expect(await codes(two.render({ ...g, opacities: new Float32Array(3) }, CAM))).toBe('BAD_SHAPE');
    expect(await codes(two.render(g, CAM, { signal: { aborted: true } }))).toBe('ABORTED');
    expect(() => createNodeCpuRasterizer({ threads: 0 })).toThrow(Da3Error);
    // still usable afterwards
    const ok = await two.render(g, CAM);
    expect(ok.rgb.length).toBe(3 * CAM.width * CAM.height);
  });

  it('aborts a render in flight with ABORTED and stays usable', async () => {
    const g = cloud(20_000, 9);
    const ac = new AbortController();
    const p = two.render(g, CAM, { signal: ac.signal });
    ac.abort('stop');
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    const again = await two.render(g, CAM);
    const ref = await single.render(g, CAM);
    expect(same(again.rgb, ref.rgb)).toBe(true);
  });

  it('refuses to render after dispose', async () => {
    const r = createNodeCpuRasterizer({ threads: 1 });
    await r.render(cloud(10), CAM);
    await r.dispose();
    await expect(r.render(cloud(10), CAM)).rejects.toMatchObject({ code: 'BAD_VALUE' });
  });
});
