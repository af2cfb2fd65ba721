import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageU8, type NestedConfig, type NetConfig, SafetensorsFile, VARIANTS, encodeOnnxModel, loadConfig, makeRandomCheckpoint, memoryByteSource, openCheckpoint } from '@da3js/core';
import { buildNetGraph } from '@da3js/core/graph';
import { afterAll, describe, expect, it } from 'vitest';
import { loadJson } from '../../../test-utils/fixtures.js';
import { DepthAnything3 } from '../src/index.js';

/**
 * DA3-GIANT and DA3NESTED-GIANT-LARGE at reduced width, on every `npm test`: the architecture
 * read from the official manifests (fixtures/manifests) — GIANT's 40 blocks, alt/QK-norm/RoPE from
 * block 13, global attention on the odd blocks after it, reference-view selection before block 12,
 * taps [19, 27, 33, 39], SwiGLU FFN, cat-token features, DualDPT, a 4-deep camera encoder, the
 * camera decoder, the GS head and adapter; NESTED's LARGE-shaped metric network (24 blocks, MLP
 * FFN, DPT + sky) — with every width cut (1536 → 48, 1024 → 32) so that seeded random weights
 * convert and run in seconds. The checkpoint holds exactly the official files' tensor names; it
 * goes through the real conversion: GIANT end to end through the public API (onnxruntime-node,
 * three views so the reference view is selected, 3D Gaussians, gs_ply export); NESTED into both
 * ONNX graphs (the any-view one pose-conditioned, with the GS head), every checkpoint key used. Running a 40-block
 * graph is the slow part (session creation), so it runs once.
 */
const work = mkdtempSync(join(tmpdir(), 'da3js-giant-shaped-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: the manifests' resolved configs, edited field by field
type Json = Record<string, any>;
const OUT_CHANNELS = [8, 16, 32, 32];

/** GIANT's resolved any-view network at token width `w` (`heads` heads): every other number kept. */
function narrowAnyview(r: Json, w: number, heads: number): Json {
  const ffn = Math.floor((Math.floor((4 * w * 2) / 3) + 7) / 8) * 8; // SwiGLU: (int(4C·2/3)+7)//8·8
  return {
    ...r,
    backbone: { ...r.backbone, embed_dim: w, num_heads: heads, head_dim: w / heads, ffn_hidden: ffn, feature_dim: 2 * w },
    head: { ...r.head, dim_in: 2 * w, features: 16, out_channels: OUT_CHANNELS },
    cam_enc: { ...r.cam_enc, dim_out: w, pose_branch_hidden: w / 2, mlp_hidden: 4 * w },
    cam_dec: { ...r.cam_dec, dim_in: 2 * w },
    gs_head: { ...r.gs_head, dim_in: 2 * w, features: 16, out_channels: OUT_CHANNELS },
  };
}

/** LARGE's resolved mono/metric network at width `w`. */
function narrowMetric(r: Json, w: number, heads: number): Json {
  return {
    ...r,
    backbone: { ...r.backbone, embed_dim: w, num_heads: heads, head_dim: w / heads, ffn_hidden: 4 * w, feature_dim: w },
    head: { ...r.head, dim_in: w, features: 16, out_channels: OUT_CHANNELS },
  };
}

interface Manifest {
  resolved: Json;
  tensors: { name: string; shape: number[] }[];
}

/** Writes config.json + a seeded random model.safetensors; returns the folder and the stored tensor names and ranks. */
async function writeModel(name: string, resolved: Json): Promise<{ dir: string; tensors: Map<string, number> }> {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_name: name, resolved }));
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  await makeRandomCheckpoint(loadConfig({ resolved }), { seed: 7, sink: { write: (c) => void writeSync(fd, c), close: () => closeSync(fd) } });
  const file = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(dir, 'model.safetensors')))));
  return { dir, tensors: new Map(file.names().map((n) => [n, file.info(n).shape.length])) };
}

function images(n: number, w: number, h: number): ImageU8[] {
  return Array.from({ length: n }, (_, v) => {
    const data = new Uint8Array(w * h * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + v * 97 + ((i / (3 * w)) | 0) * 7) % 253;
    return { data, width: w, height: h, channels: 3 as const };
  });
}

function expectFinite(label: string, a: ArrayLike<number>): void {
  let bad = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) bad++;
  expect(bad, `${label}: non-finite values`).toBe(0);
}

const raw = async (input: unknown) => input as ImageU8;

describe('DA3-GIANT, reduced width (48), random weights', () => {
  it('has GIANT’s structure and tensor names, converts and runs end to end: 3 views (reference-view selection), Gaussians, gs_ply', { timeout: 120_000 }, async () => {
    const manifest = loadJson<Manifest>('manifests/DA3-GIANT.json');
    const resolved = narrowAnyview(manifest.resolved, 48, 3);
    const config = loadConfig({ resolved }) as NetConfig;
    const giant = VARIANTS['DA3-GIANT'].config as NetConfig;
    // Structure: everything but the widths is GIANT's.
    for (const k of ['depth', 'outLayers', 'altStart', 'qknormStart', 'ropeStart', 'ffn', 'catToken', 'globalAttentionLayers', 'qkNormLayers', 'ropeLayers', 'refViewSelectionLayer'] as const) {
      expect(config.backbone[k], k).toEqual(giant.backbone[k]);
    }
    expect(config.backbone.depth).toBe(40);
    expect(config.camEnc?.trunkDepth).toBe(giant.camEnc?.trunkDepth);
    expect(config.gsHead?.outputDim).toBe(38);
    expect(config.gsAdapter).toEqual(giant.gsAdapter);
    const { dir, tensors } = await writeModel('giant-w48', resolved);
    // The same 971 tensors as the official checkpoint, each of the same rank.
    expect(tensors.size).toBe(manifest.tensors.length);
    for (const t of manifest.tensors) expect(tensors.get(t.name), t.name).toBe(t.shape.length);

    const model = DepthAnything3.fromFiles({ configPath: join(dir, 'config.json'), weightsPath: join(dir, 'model.safetensors') }, { cacheDir: join(work, 'cache-giant') }, raw);
    try {
      const [W, H] = [42, 42];
      const pred = await model.inference(images(3, W, H), { processRes: 42, inferGs: true });
      expect([pred.views, pred.height, pred.width]).toEqual([3, H, W]);
      for (const [k, a] of Object.entries({ depth: pred.depth, conf: pred.conf!, extrinsics: pred.extrinsics!, intrinsics: pred.intrinsics! })) expectFinite(k, a);
      const g = pred.gaussians!;
      expect(g.count).toBe(3 * H * W);
      expect(g.shCoefficients).toBe(9);
      for (const k of ['means', 'scales', 'rotations', 'harmonics', 'opacities'] as const) expectFinite(`gaussians.${k}`, g[k]);
      const [ply] = await pred.export({ dir: join(work, 'giant-out'), formats: 'gs_ply' });
      expect(new TextDecoder().decode(readFileSync(ply).subarray(0, 60))).toMatch(/^ply\nformat binary_little_endian 1\.0\nelement vertex \d+\n/);
    } finally {
      await model.dispose();
    }
  });
});

describe('DA3NESTED-GIANT-LARGE, reduced width (48 / 32), random weights', () => {
  it('has NESTED’s structure and tensor names, and builds both networks (any-view posed, with the GS head) using every key', { timeout: 60_000 }, async () => {
    const manifest = loadJson<Manifest>('manifests/DA3NESTED-GIANT-LARGE.json');
    const resolved = { ...manifest.resolved, anyview: narrowAnyview(manifest.resolved.anyview, 48, 3), metric: narrowMetric(manifest.resolved.metric, 32, 2) };
    const config = loadConfig({ resolved }) as NestedConfig;
    const nested = VARIANTS['DA3NESTED-GIANT-LARGE'].config as NestedConfig;
    for (const net of ['anyview', 'metric'] as const) {
      for (const k of ['depth', 'outLayers', 'altStart', 'ffn', 'catToken', 'globalAttentionLayers', 'refViewSelectionLayer'] as const) {
        expect(config[net].backbone[k], `${net}.${k}`).toEqual(nested[net].backbone[k]);
      }
      expect(config[net].head.type).toBe(nested[net].head.type);
    }
    expect(config.metricScaling).toEqual(nested.metricScaling);
    const { dir, tensors } = await writeModel('nested-w48', resolved);
    expect(tensors.size).toBe(manifest.tensors.length);
    for (const t of manifest.tensors) expect(tensors.get(t.name), t.name).toBe(t.shape.length);

    // Each network built as the runtimes build it — the any-view one pose-conditioned with the GS
    // head, so the camera encoder and GS head weights are used too — and written as ONNX.
    const file = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(dir, 'model.safetensors')))));
    const opened = openCheckpoint(file, config, { strict: true });
    expect(opened.networks.map((n) => n.role)).toEqual(['anyview', 'metric']);
    for (const net of opened.networks) {
      const anyview = net.role === 'anyview';
      const graph = buildNetGraph(net.config, net.weights, { poseConditioned: anyview, gaussians: anyview });
      expect(graph.graph.outputs.map((o) => o.name)).toEqual(anyview ? ['depth', 'depth_conf', 'ray', 'ray_conf', 'pose_enc', 'gs_raw'] : ['depth', 'sky']);
      expect((await encodeOnnxModel(graph)).length).toBeGreaterThan(100_000);
      // Unused by design: the DualDPT aux levels the reference discards, and the learned camera
      // token, which the camera encoder's tokens replace in a pose-conditioned graph.
      expect(net.weights.unused().filter((k) => !/output_conv[12]_aux\.[012]\.|\.camera_token$/.test(k)), net.role).toEqual([]);
    }
  });
});
