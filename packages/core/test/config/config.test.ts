import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Da3Error,
  VARIANTS,
  VARIANT_IDS,
  findVariant,
  loadConfig,
  parseResolvedConfig,
  resolveReferenceConfig,
  type NetConfig,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';

interface Manifest {
  variant: string;
  model_name: string;
  hf_repos: string[];
  config: Record<string, unknown>;
  resolved: Record<string, unknown>;
  state_dict: { total_parameters: number };
}

const manifestDir = join(FIXTURES, 'manifests');
const manifests: Manifest[] = readdirSync(manifestDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(manifestDir, f), 'utf8')));

/**
 * Process CPU time in ms (user + system): the bounds below are about the work loadConfig does, so
 * they hold however busy the machine is (wall time did not: 1.7 s under a load average of 20).
 */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Da3Error);
    expect((e as Da3Error).code).toBe(code);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  expect.fail(`expected a ${code} error matching ${pattern}`);
}

describe('official variants', () => {
  it('covers all seven manifests and every Hub release', () => {
    expect(manifests).toHaveLength(7);
    const repos = manifests.flatMap((m) => m.hf_repos).sort();
    expect(VARIANT_IDS.map((id) => VARIANTS[id].hfRepo).sort()).toEqual(repos);
  });

  for (const m of manifests) {
    it(`${m.variant}: resolved block = reference config = registry entry`, () => {
      const fromResolved = parseResolvedConfig(m.resolved);
      const fromReference = resolveReferenceConfig(m.config);
      expect(fromReference).toEqual(fromResolved);
      for (const repo of m.hf_repos) {
        const v = findVariant(repo)!;
        expect(v.config).toEqual(fromResolved);
        expect(v.modelName).toBe(m.model_name);
        expect(v.parameters).toBe(m.state_dict.total_parameters);
      }
    });
  }

  it('reads sizes exactly as the manifests state them', () => {
    const small = VARIANTS['DA3-SMALL'].config as NetConfig;
    expect(small.backbone.embedDim).toBe(384);
    expect(small.backbone.globalAttentionLayers).toEqual([5, 7, 9, 11]);
    expect(small.backbone.refViewSelectionLayer).toBe(3);
    expect(small.backbone.featureDim).toBe(768);
    expect(small.head).toMatchObject({ type: 'DualDPT', features: 64, outChannels: [48, 96, 192, 384], tokenNormEps: 1e-5 });
    const giant = VARIANTS['DA3-GIANT-1.1'].config as NetConfig;
    expect(giant.backbone.ffn).toBe('swiglu');
    expect(giant.backbone.ffnHidden).toBe(4096);
    expect(giant.gsHead).toMatchObject({ outputDim: 38, dimIn: 3072 });
    const metric = VARIANTS['DA3METRIC-LARGE'].config as NetConfig;
    expect(metric.head).toMatchObject({ type: 'DPT', tokenNorm: 'identity', useSkyHead: true });
    expect(metric.camDec).toBeNull();
    expect(VARIANTS['DA3NESTED-GIANT-LARGE-1.1'].config.kind).toBe('NestedDepthAnything3Net');
  });

  it('finds variants by id, repo and model name, preferring the -1.1 release', () => {
    expect(findVariant('depth-anything/DA3-LARGE')!.id).toBe('DA3-LARGE');
    expect(findVariant('da3-large')!.id).toBe('DA3-LARGE-1.1');
    expect(findVariant('da3metric-large')!.id).toBe('DA3METRIC-LARGE');
    expect(findVariant('DA3-HUGE')).toBeUndefined();
    expect(VARIANTS['DA3-SMALL'].license).toBe('Apache-2.0');
    expect(VARIANTS['DA3-GIANT-1.1'].license).toBe('CC-BY-NC-4.0');
  });
});

describe('loadConfig', () => {
  for (const dir of ['tiny', 'tiny-mono', 'tiny-nested']) {
    it(`reads ${dir}/config.json through its resolved block`, () => {
      const text = readFileSync(join(FIXTURES, dir, 'config.json'), 'utf8');
      const doc = JSON.parse(text);
      expect(loadConfig(text)).toEqual(parseResolvedConfig(doc.resolved));
    });
  }

  it('builds the tiny any-view model exactly as the fixtures describe it', () => {
    const c = loadConfig(readFileSync(join(FIXTURES, 'tiny', 'config.json'), 'utf8')) as NetConfig;
    expect(c.backbone).toMatchObject({ embedDim: 64, depth: 6, numHeads: 4, headDim: 16, ffnHidden: 256 });
    expect(c.backbone.globalAttentionLayers).toEqual([3, 5]);
    expect(c.backbone.refViewSelectionLayer).toBe(1);
    expect(c.camEnc).toMatchObject({ trunkDepth: 2, numHeads: 16, poseBranchHidden: 32 });
  });

  it('accepts a Hugging Face config.json by model_name', () => {
    expect(loadConfig('{"model_name": "da3-small"}')).toBe(VARIANTS['DA3-SMALL'].config);
    expectError(() => loadConfig('{"model_name": "da3-huge"}'), 'UNKNOWN_VARIANT', /da3-huge.*da3-small/);
  });

  it('accepts YAML in camelCase and fills defaults', () => {
    const yaml = `
kind: DepthAnything3Net
backbone:
  embedDim: 96
  depth: 4
  numHeads: 3
  outLayers: [0, 1, 2, 3]
  altStart: 2
  qknormStart: 2
  ropeStart: 2
  catToken: true
head:
  type: DualDPT
  dimIn: 192
  features: 8
  outChannels: [4, 8, 16, 16]
camDec:
  dimIn: 192
`;
    const c = loadConfig(yaml) as NetConfig;
    expect(c.backbone.headDim).toBe(32);
    expect(c.backbone.globalAttentionLayers).toEqual([3]);
    expect(c.backbone.cameraToken).toBe(true);
    expect(c.head.tokenNorm).toBe('layernorm');
    expect(c.camEnc).toBeNull();
  });

  it('names the bad field in its errors', () => {
    const base = JSON.parse(readFileSync(join(FIXTURES, 'tiny', 'config.json'), 'utf8')).resolved;
    // biome-ignore lint/suspicious/noExplicitAny: edits arbitrary fields of a parsed JSON config
    const edit = (f: (r: any) => void) => {
      const r = structuredClone(base);
      f(r);
      return r;
    };
    expectError(() => loadConfig(edit((r) => (r.backbone.out_layers = [1, 2, 3]))), 'BAD_CONFIG', /config\.backbone\.out_layers must be a list of 4/);
    expectError(() => loadConfig(edit((r) => (r.backbone.embed_dim = 'wide'))), 'BAD_CONFIG', /config\.backbone\.embed_dim must be an integer/);
    expectError(() => loadConfig(edit((r) => (r.head.dim_in = 64))), 'BAD_CONFIG', /config\.head\.dim_in \(64\) must equal the backbone feature_dim 128/);
    expectError(() => loadConfig(edit((r) => (r.backbone.global_attention_layers = [2, 4]))), 'BAD_CONFIG', /global_attention_layers is \[2,4\]/);
    expectError(() => loadConfig(edit((r) => (r.backbone.num_heads = 5))), 'BAD_CONFIG', /head_dim.*must equal embed_dim/);
    expectError(() => loadConfig(edit((r) => (r.head.type = 'UNet'))), 'BAD_CONFIG', /config\.head\.type must be one of DualDPT, DPT/);
    expectError(() => loadConfig(edit((r) => delete r.backbone)), 'BAD_CONFIG', /config\.backbone must be an object, got nothing/);
    expectError(() => loadConfig(edit((r) => (r.cam_enc.dim_out = 32))), 'BAD_CONFIG', /config\.cam_enc\.dim_out \(32\)/);
    expectError(() => loadConfig(edit((r) => (r.backbone.out_layers = [1, 3, 4, 6]))), 'BAD_CONFIG', /below depth 6/);
    expectError(() => loadConfig('net: {name: vitx}'), 'BAD_CONFIG', /config\.net\.name must be one of vits, vitb, vitl, vitg/);
    expectError(() => loadConfig('[1, 2'), 'BAD_CONFIG', /not valid JSON or YAML/);
    expectError(() => loadConfig('42'), 'BAD_CONFIG', /must be an object/);
    expectError(() => loadConfig('{"hello": 1}'), 'BAD_CONFIG', /unrecognised layout/);
  });

  it('bounds every size before anything is allocated from it, naming the field and the limit', () => {
    const base = JSON.parse(readFileSync(join(FIXTURES, 'tiny', 'config.json'), 'utf8')).resolved;
    const huge = 4_294_967_296;
    const cases: [string, string[], RegExp][] = [
      ['backbone.depth', ['backbone', 'depth'], /config\.backbone\.depth must be an integer in \[1, 1024\], got 4294967296/],
      ['backbone.embed_dim', ['backbone', 'embed_dim'], /config\.backbone\.embed_dim must be an integer in \[1, 65536\]/],
      ['backbone.num_heads', ['backbone', 'num_heads'], /config\.backbone\.num_heads must be an integer in \[1, 65536\]/],
      ['backbone.ffn_hidden', ['backbone', 'ffn_hidden'], /config\.backbone\.ffn_hidden must be an integer in/],
      ['backbone.patch_size', ['backbone', 'patch_size'], /config\.backbone\.patch_size must be an integer in/],
      ['head.features', ['head', 'features'], /config\.head\.features must be an integer in/],
      ['head.output_dim', ['head', 'output_dim'], /config\.head\.output_dim must be an integer in/],
      ['cam_enc.trunk_depth', ['cam_enc', 'trunk_depth'], /config\.cam_enc\.trunk_depth must be an integer in \[1, 1024\]/],
      ['cam_enc.mlp_hidden', ['cam_enc', 'mlp_hidden'], /config\.cam_enc\.mlp_hidden must be an integer in/],
    ];
    for (const [label, [block, key], message] of cases) {
      const r = structuredClone(base);
      r[block][key] = huge;
      const t0 = cpuMs();
      expectError(() => loadConfig(r), 'BAD_CONFIG', message);
      expect(cpuMs() - t0, label).toBeLessThan(100);
    }
    const lists = structuredClone(base);
    lists.head.out_channels = [8, 16, 32, huge];
    expectError(() => loadConfig(lists), 'BAD_CONFIG', /config\.head\.out_channels must be a list of 4 integers in \[1, 65536\]/);
    const imgSize = structuredClone(base);
    imgSize.backbone.img_size = [518, huge];
    expectError(() => loadConfig(imgSize), 'BAD_CONFIG', /config\.backbone\.img_size must be a list of 2 integers/);
    // The same limits hold for the reference YAML layout (its sizes go through the same readers).
    const reference = JSON.parse(readFileSync(join(FIXTURES, 'tiny', 'config.json'), 'utf8')).config;
    for (const k of Object.keys(reference.net)) if (k.startsWith('tiny_')) delete reference.net[k];
    reference.head.dim_in = 768; // vits with cat_token
    reference.cam_enc.dim_out = 384;
    reference.cam_dec.dim_in = 768;
    expect(() => loadConfig(reference)).not.toThrow();
    reference.head.features = huge;
    expectError(() => loadConfig(reference), 'BAD_CONFIG', /features must be an integer in/);
  });

  it('bounds the text: JSON up to 1 MiB, YAML up to 32 KiB, linear error reporting (fuzz findings)', () => {
    // A 118 KB text with 78,000 YAML errors took 16 s (every error was formatted with its
    // context), and a megabyte of them ran out of memory; fuzz/regressions/config/ holds the inputs.
    const t0 = cpuMs();
    expectError(() => loadConfig(']'.repeat(2 ** 15)), 'BAD_CONFIG', /not valid JSON or YAML \(.* at line 1, column 1\)/);
    expectError(() => loadConfig(']'.repeat(2 ** 15 + 1)), 'BAD_CONFIG', /not valid JSON \(.*\), and at 32769 characters too long to be read as YAML \(at most 32768\)/);
    expectError(() => loadConfig(' '.repeat(2 ** 20 + 1)), 'BAD_CONFIG', /text of 1048577 characters is longer than the 1048576/);
    expectError(() => loadConfig('a: 1\nb: [1, 2\n'), 'BAD_CONFIG', /not valid JSON or YAML \(.* at line 3, column 1\)/);
    expect(cpuMs() - t0).toBeLessThan(1500);
    // A long JSON config reads as JSON (the 75 KB fixture configs), YAML as before.
    const text = readFileSync(join(FIXTURES, 'tiny-nested', 'config.json'), 'utf8');
    expect(text.length).toBeGreaterThan(2 ** 15);
    expect(loadConfig(text).kind).toBe('NestedDepthAnything3Net');
    expect(loadConfig('model_name: da3-large').kind).toBe(loadConfig('{"model_name": "da3-large"}').kind);
  });
});
