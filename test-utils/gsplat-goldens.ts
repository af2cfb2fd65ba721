/**
 * The gsplat golden renders (`testdata/gsplat/`, made by `scripts/goldens/gsplat/make-goldens.py`
 * from gsplat's PyTorch reference), as ready-to-render cases: core `Gaussians`, a `RenderCamera`,
 * `RasterizeOptions` and the expected planes. Shared by every rasterizer's tests (CPU, worker
 * threads, WebGPU).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Gaussians, type RasterizeOptions, type RenderCamera, SafetensorsFile, memoryByteSource } from '@da3js/core';
import { REPO_ROOT, loadCaseOutputs } from './fixtures.js';

export const GSPLAT_GOLDENS_DIR = join(REPO_ROOT, 'testdata', 'gsplat');

/** One golden render. */
export interface GsplatGoldenCase {
  name: string;
  scene: string;
  gaussians: Gaussians;
  camera: RenderCamera;
  options: RasterizeOptions;
  /** Expected `[H, W, 3]`, `[H, W]`, `[H, W]` (depth only for RGB+ED). */
  rgb: Float32Array;
  alpha: Float32Array;
  depth?: Float32Array;
  /** gsplat's projection (torch path) per Gaussian: radii [N,2] (3.33σ boxes), means2d [N,2], depths [N], conics [N,3]; absent for some cases. */
  proj?: { radii: Int32Array; means2d: Float32Array; depths: Float32Array; conics: Float32Array };
  /** The case's entry of goldens.json. */
  meta: Record<string, unknown>;
}

interface GoldensJsonCase {
  name: string;
  scene: string;
  width: number;
  height: number;
  options: { render_mode: 'RGB' | 'RGB+ED'; sh_degree: number; near_plane: number; far_plane: number; eps2d: number; backgrounds: [number, number, number] | null };
}

let cache: Promise<GsplatGoldenCase[]> | undefined;

/** Every golden case (read once per process). */
export function loadGsplatGoldens(): Promise<GsplatGoldenCase[]> {
  cache ??= load();
  return cache;
}

async function load(): Promise<GsplatGoldenCase[]> {
  const doc = JSON.parse(readFileSync(join(GSPLAT_GOLDENS_DIR, 'goldens.json'), 'utf8')) as { cases: GoldensJsonCase[] };
  const st = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(GSPLAT_GOLDENS_DIR, 'goldens.safetensors')))));
  const names = new Set(st.names());
  const f32 = async (name: string): Promise<Float32Array> => (await st.read(name)) as Float32Array;
  const scenes = new Map<string, Gaussians>();
  const scene = async (name: string): Promise<Gaussians> => {
    const hit = scenes.get(name);
    if (hit) return hit;
    let g: Gaussians;
    if (name === 'tiny-giant') {
      const o = await loadCaseOutputs('tiny-giant', 'multi');
      const wxyz = o['out.gaussians.rotations'].data as Float32Array;
      const xyzw = new Float32Array(wxyz.length);
      for (let i = 0; i < wxyz.length; i += 4) {
        xyzw[i] = wxyz[i + 1];
        xyzw[i + 1] = wxyz[i + 2];
        xyzw[i + 2] = wxyz[i + 3];
        xyzw[i + 3] = wxyz[i];
      }
      const opacities = o['gs_adapter.in.opacities'].data as Float32Array;
      g = {
        count: opacities.length,
        means: o['out.gaussians.means'].data as Float32Array,
        scales: o['out.gaussians.scales'].data as Float32Array,
        rotations: xyzw,
        harmonics: o['out.gaussians.harmonics'].data as Float32Array,
        shCoefficients: 9,
        opacities: Float32Array.from(opacities),
      };
    } else {
      const info = st.info(`scene.${name}.harmonics`);
      g = {
        count: info.shape[0],
        means: await f32(`scene.${name}.means`),
        scales: await f32(`scene.${name}.scales`),
        rotations: await f32(`scene.${name}.rotations`),
        harmonics: await f32(`scene.${name}.harmonics`),
        shCoefficients: info.shape[2],
        opacities: await f32(`scene.${name}.opacities`),
      };
    }
    scenes.set(name, g);
    return g;
  };
  const out: GsplatGoldenCase[] = [];
  for (const c of doc.cases) {
    const p = `case.${c.name}`;
    const o = c.options;
    const options: RasterizeOptions = {
      renderMode: o.render_mode,
      shDegree: o.sh_degree,
      near: o.near_plane,
      far: o.far_plane,
      eps2d: o.eps2d,
      ...(o.backgrounds ? { background: o.backgrounds } : {}),
    };
    out.push({
      name: c.name,
      scene: c.scene,
      gaussians: await scene(c.scene),
      camera: { extrinsics: await f32(`${p}.extrinsics`), intrinsics: await f32(`${p}.intrinsics`), width: c.width, height: c.height },
      options,
      rgb: await f32(`${p}.rgb`),
      alpha: await f32(`${p}.alpha`),
      ...(names.has(`${p}.depth`) ? { depth: await f32(`${p}.depth`) } : {}),
      ...(names.has(`${p}.proj.radii`)
        ? {
            proj: {
              radii: (await st.read(`${p}.proj.radii`)) as Int32Array,
              means2d: await f32(`${p}.proj.means2d`),
              depths: await f32(`${p}.proj.depths`),
              conics: await f32(`${p}.proj.conics`),
            },
          }
        : {}),
      meta: c as unknown as Record<string, unknown>,
    });
  }
  return out;
}

/** Max abs difference and where (flat index), for error messages. */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): { max: number; at: number } {
  if (got.length !== want.length) throw new Error(`maxAbsDiff: lengths ${got.length} vs ${want.length}`);
  let max = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= max)) {
      max = d;
      at = i;
    }
  }
  return { max, at };
}
