/**
 * Test helper: a real `Prediction` built from a fixture case's `pred.*` tensors (what the
 * reference's `DepthAnything3.inference` returned), for exporter tests.
 */
import { type Prediction, createPrediction } from '@da3js/core';
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
  return createPrediction({
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
