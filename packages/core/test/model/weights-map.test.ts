import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ModelConfig, memoryByteSource, SafetensorsFile, VARIANTS, type VariantId } from '../../src/index.js';
import {
  checkpointNetworks,
  DEFAULT_CHECKPOINT_PREFIX,
  expectedParameterCount,
  expectedTensors,
  shapeNumel,
  tensorFanIn,
  tiedTensors,
} from '../../src/model/weights-map/index.js';
import { FIXTURES, loadJson } from '../helpers/fixtures.js';

interface ManifestTensor {
  name: string;
  shape: number[];
  dtype: string;
  numel: number;
}
interface Manifest {
  variant: string;
  tensors: ManifestTensor[];
  state_dict: {
    num_state_dict_entries: number;
    num_stored_tensors: number;
    total_parameters: number;
    tied_keys_removed_by_safetensors: Record<string, string>;
  };
}

const MANIFESTS = ['DA3-SMALL', 'DA3-BASE', 'DA3-LARGE', 'DA3-GIANT', 'DA3METRIC-LARGE', 'DA3MONO-LARGE', 'DA3NESTED-GIANT-LARGE'] as const;

const asMap = (list: ReadonlyArray<{ name: string; shape: readonly number[] }>) => new Map(list.map((t) => [t.name, [...t.shape].join('x')]));

/** Set difference both ways plus shape disagreements, for a readable failure. */
function diff(got: ReadonlyArray<{ name: string; shape: readonly number[] }>, want: ReadonlyArray<{ name: string; shape: readonly number[] }>) {
  const g = asMap(got);
  const w = asMap(want);
  return {
    extra: [...g.keys()].filter((k) => !w.has(k)),
    missing: [...w.keys()].filter((k) => !g.has(k)),
    shapes: [...g.keys()].filter((k) => w.has(k) && w.get(k) !== g.get(k)).map((k) => `${k}: ${g.get(k)} vs ${w.get(k)}`),
  };
}

describe('expectedTensors matches every official manifest (drift test)', () => {
  it.each(MANIFESTS)('%s', (id) => {
    const m = loadJson<Manifest>(`manifests/${id}.json`);
    const config = VARIANTS[id as VariantId].config;
    const got = expectedTensors(config);
    expect(diff(got, m.tensors)).toEqual({ extra: [], missing: [], shapes: [] });
    expect(got.length).toBe(m.state_dict.num_stored_tensors);
    expect(new Set(got.map((t) => t.name)).size).toBe(got.length);
    expect(got.map((t) => t.name)).toEqual(m.tensors.map((t) => t.name)); // same (sorted) file order
    const total = got.reduce((s, t) => s + shapeNumel(t.shape), 0);
    expect(total).toBe(m.state_dict.total_parameters);
    expect(expectedParameterCount(config)).toBe(VARIANTS[id as VariantId].parameters);
    const ties = tiedTensors(config);
    expect(ties).toEqual(m.state_dict.tied_keys_removed_by_safetensors);
    expect(got.length + Object.keys(ties).length).toBe(m.state_dict.num_state_dict_entries);
    console.log(`${id}: ${got.length} tensors, ${total} parameters, ${Object.keys(ties).length} tied keys`);
  });

  it('agrees with the config parsed back from each manifest (resolved block)', () => {
    for (const id of MANIFESTS) {
      const m = loadJson<Record<string, unknown>>(`manifests/${id}.json`);
      const fromManifest = loadConfig(m as Record<string, unknown>);
      expect(asMap(expectedTensors(fromManifest))).toEqual(asMap(expectedTensors(VARIANTS[id as VariantId].config)));
    }
  });
});

async function fileNames(rel: string) {
  const st = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(FIXTURES, rel)))));
  return { st, tensors: st.names().map((name) => ({ name, shape: st.info(name).shape })) };
}

describe('expectedTensors matches the tiny checkpoints', () => {
  const tinyConfig = (dir: string): ModelConfig => loadConfig(readFileSync(join(FIXTURES, dir, 'config.json'), 'utf8'));

  it.each(['tiny', 'tiny-mono'])('%s: key set and shapes of model.safetensors', async (dir) => {
    const config = tinyConfig(dir);
    const { st, tensors } = await fileNames(`${dir}/model.safetensors`);
    expect(diff(expectedTensors(config), tensors)).toEqual({ extra: [], missing: [], shapes: [] });
    expect(tiedTensors(config)).toEqual(st.metadata);
    const listed = loadJson<{ tensors: ManifestTensor[]; state_dict: { total_parameters: number } }>(`${dir}/config.json`);
    expect(diff(expectedTensors(config), listed.tensors)).toEqual({ extra: [], missing: [], shapes: [] });
    expect(expectedParameterCount(config)).toBe(listed.state_dict.total_parameters);
  });

  it('tiny-nested: the prefixed union of tiny and tiny-mono', async () => {
    const config = tinyConfig('tiny-nested');
    const any = (await fileNames('tiny/model.safetensors')).tensors.map((t) => ({ ...t, name: t.name.replace(/^model\./, 'model.da3.') }));
    const metric = (await fileNames('tiny-mono/model.safetensors')).tensors.map((t) => ({ ...t, name: t.name.replace(/^model\./, 'model.da3_metric.') }));
    expect(diff(expectedTensors(config), [...any, ...metric])).toEqual({ extra: [], missing: [], shapes: [] });
    const listed = loadJson<Manifest>('tiny-nested/config.json');
    expect(diff(expectedTensors(config), listed.tensors)).toEqual({ extra: [], missing: [], shapes: [] });
    expect(tiedTensors(config)).toEqual(listed.state_dict.tied_keys_removed_by_safetensors);
    expect(expectedParameterCount(config)).toBe(listed.state_dict.total_parameters);
  });
});

describe('checkpointNetworks / prefixes / roles', () => {
  it('splits Nested into da3. and da3_metric.', () => {
    const nets = checkpointNetworks(VARIANTS['DA3NESTED-GIANT-LARGE'].config);
    expect(nets.map((n) => [n.role, n.prefix, n.config.head.type])).toEqual([
      ['anyview', 'model.da3.', 'DualDPT'],
      ['metric', 'model.da3_metric.', 'DPT'],
    ]);
    expect(checkpointNetworks(VARIANTS['DA3-SMALL'].config, '').map((n) => n.prefix)).toEqual(['']);
    expect(DEFAULT_CHECKPOINT_PREFIX).toBe('model.');
  });

  it('honours a custom prefix', () => {
    const names = expectedTensors(VARIANTS['DA3-SMALL'].config, '').map((t) => t.name);
    expect(names).toContain('backbone.pretrained.cls_token');
    expect(Object.keys(tiedTensors(VARIANTS['DA3-SMALL'].config, 'x.'))[0]).toMatch(/^x\.head\.scratch\.output_conv2_aux\.\d\.2\./);
  });

  it('gives every weight a fan-in and every tensor a role', () => {
    const all = expectedTensors(VARIANTS['DA3-GIANT'].config);
    const fan = (n: string) => tensorFanIn(all.find((t) => t.name === n)!);
    expect(fan('model.backbone.pretrained.blocks.0.attn.qkv.weight')).toBe(1536);
    expect(fan('model.head.projects.0.weight')).toBe(3072);
    expect(fan('model.head.resize_layers.0.weight')).toBe(256);
    expect(fan('model.head.scratch.layer4_rn.weight')).toBe(1024 * 9);
    expect(fan('model.backbone.pretrained.pos_embed')).toBeNull();
    for (const t of all) {
      if (t.name.endsWith('.weight') && t.shape.length > 1) expect(['linear', 'conv', 'conv-transpose']).toContain(t.role);
      if (t.role === 'bias' || t.role === 'norm-bias') expect(t.name.endsWith('.bias')).toBe(true);
    }
  });
});
