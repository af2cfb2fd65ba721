/**
 * Test helper: a real `Prediction` built from a fixture case's `pred.*` tensors (what the
 * reference's `DepthAnything3.inference` returned), for exporter tests.
 */
import { type Gaussians, type Prediction, createPrediction } from '@da3js/core';
import { loadJson, loadTensors } from './fixtures.js';

export async function fixturePrediction(model = 'tiny', name = 'multi'): Promise<Prediction> {
  const out = await loadTensors(`${model}/${name}/outputs.safetensors`);
  const meta = loadJson<{ outputs: Record<string, { shape: number[]; same_values_as?: string }> }>(`${model}/${name}/case.json`);
  const get = (key: string) => {
    if (out[key]) return out[key].data;
    const alias = meta.outputs[key]?.same_values_as;
    return alias ? out[alias]?.data : undefined;
  };
  const depth = get('pred.depth') as Float32Array;
  const [views, height, width] = meta.outputs['pred.depth'].shape;
  const sky = get('pred.sky') as Uint8Array | undefined;
  // The reference's Gaussians (tiny-giant): its rotations are scalar first, the Gaussians contract xyzw.
  const means = get('pred.gaussians.means') as Float32Array | undefined;
  let gaussians: Gaussians | null = null;
  if (means) {
    const wxyz = get('pred.gaussians.rotations') as Float32Array;
    const rotations = new Float32Array(wxyz.length);
    for (let i = 0; i < wxyz.length; i += 4) rotations.set([wxyz[i + 1], wxyz[i + 2], wxyz[i + 3], wxyz[i]], i);
    const [, count, , K] = meta.outputs['pred.gaussians.harmonics'].shape;
    gaussians = {
      count,
      means,
      scales: get('pred.gaussians.scales') as Float32Array,
      rotations,
      harmonics: get('pred.gaussians.harmonics') as Float32Array,
      shCoefficients: K,
      opacities: get('pred.gaussians.opacities') as Float32Array,
    };
  }
  return createPrediction({
    gaussians,
    views,
    height,
    width,
    depth,
    conf: (get('pred.conf') as Float32Array | undefined) ?? null,
    extrinsics: (get('pred.extrinsics') as Float32Array | undefined) ?? null,
    intrinsics: (get('pred.intrinsics') as Float32Array | undefined) ?? null,
    processedImages: get('pred.processed_images') as Uint8Array,
    sky: sky ?? null,
  });
}
