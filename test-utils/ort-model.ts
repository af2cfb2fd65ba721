/**
 * Test helper: a `Da3Model` over the fixture checkpoints, with graphs built by core and run by
 * onnxruntime-node (what @da3js/node does, minus download/cache).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CheckpointWeights,
  type Da3Model,
  type Da3Runner,
  type GraphRole,
  type ModelKind,
  type NetConfig,
  type RefViewStrategy,
  SafetensorsFile,
  type TensorData,
  type TensorElements,
  encodeOnnxModel,
  loadConfig,
  memoryByteSource,
} from '@da3js/core';
import { buildNetGraph } from '@da3js/core/graph';
import * as ort from 'onnxruntime-node';
import { FIXTURES } from './fixtures.js';

async function weights(dir: string): Promise<CheckpointWeights> {
  return new CheckpointWeights(await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(FIXTURES, dir, 'model.safetensors'))))));
}

const netConfig = (dir: string) => loadConfig(readFileSync(join(FIXTURES, dir, 'config.json'), 'utf8')) as NetConfig;

async function ortRunner(bytes: Uint8Array): Promise<Da3Runner & { dispose(): Promise<void> }> {
  const session = await ort.InferenceSession.create(bytes);
  return {
    async run(feeds) {
      const f: Record<string, ort.Tensor> = {};
      for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', t.data as Float32Array, [...t.shape]);
      const out = await session.run(f);
      const res: Record<string, TensorData<TensorElements>> = {};
      for (const [k, t] of Object.entries(out)) res[k] = { data: t.data as TensorElements, shape: t.dims };
      return res;
    },
    dispose: () => session.release(),
  };
}

/** The tiny fixture models as a {@link Da3Model}: `tiny` (anyview), `tiny-mono` (mono/metric), or nested. */
export async function fixtureModel(kind: ModelKind, options: { refViewStrategy?: RefViewStrategy; exportFeatLayers?: number[] } = {}): Promise<Da3Model & { dispose(): Promise<void> }> {
  const anyDir = 'tiny';
  const monoDir = 'tiny-mono';
  const runners = new Map<GraphRole, Da3Runner & { dispose(): Promise<void> }>();
  const build = async (role: GraphRole) => {
    const mono = role === 'metric' || ((kind === 'mono' || kind === 'metric') && role === 'net');
    const dir = mono ? monoDir : anyDir;
    const posed = role === 'netPosed' || role === 'anyviewPosed';
    const model = buildNetGraph(netConfig(dir), await weights(dir), {
      refViewStrategy: options.refViewStrategy ?? 'saddle_balanced',
      poseConditioned: posed,
      exportFeatLayers: options.exportFeatLayers,
    });
    return ortRunner(await encodeOnnxModel(model));
  };
  return {
    kind,
    config: kind === 'nested' ? loadConfig(readFileSync(join(FIXTURES, 'tiny-nested', 'config.json'), 'utf8')) : netConfig(kind === 'anyview' ? anyDir : monoDir),
    async runner(role) {
      let r = runners.get(role);
      if (!r) {
        r = await build(role);
        runners.set(role, r);
      }
      return r;
    },
    async dispose() {
      for (const r of runners.values()) await r.dispose();
    },
  };
}
