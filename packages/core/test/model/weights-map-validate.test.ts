import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointWeights,
  encodeSafetensorsHeader,
  loadConfig,
  type ModelConfig,
  memoryByteSource,
  type NetConfig,
  type SafetensorsEntry,
  SafetensorsFile,
  VARIANTS,
  writeSafetensors,
} from '../../src/index.js';
import {
  assertValidCheckpoint,
  expectedTensors,
  openCheckpoint,
  randomCheckpointLayout,
  tiedTensors,
  validateCheckpoint,
} from '../../src/model/weights-map/index.js';
import { FIXTURES, loadTensors } from '../helpers/fixtures.js';

const tinyConfig = (dir: string): ModelConfig => loadConfig(readFileSync(join(FIXTURES, dir, 'config.json'), 'utf8'));
const openBytes = (bytes: Uint8Array) => SafetensorsFile.open(memoryByteSource(bytes));
const tinyFile = async (dir: string) => openBytes(new Uint8Array(readFileSync(join(FIXTURES, dir, 'model.safetensors'))));

/** Rewrites a fixture checkpoint: rename keys, drop some, add some, replace metadata. */
async function rewrite(
  dirs: ReadonlyArray<readonly [string, string]>,
  edit: (t: Record<string, SafetensorsEntry>) => void = () => {},
  metadata?: Record<string, string> | null,
): Promise<SafetensorsFile> {
  const out: Record<string, SafetensorsEntry> = {};
  const meta: Record<string, string> = {};
  for (const [dir, prefix] of dirs) {
    const file = await tinyFile(dir);
    for (const [k, v] of Object.entries(file.metadata)) meta[k.replace(/^model\./, prefix)] = v.replace(/^model\./, prefix);
    for (const [name, t] of Object.entries(await loadTensors(`${dir}/model.safetensors`))) {
      out[name.replace(/^model\./, prefix)] = { dtype: t.dtype, shape: t.shape, data: t.data };
    }
  }
  edit(out);
  return openBytes(writeSafetensors(out, metadata === null ? undefined : (metadata ?? meta)));
}

/** The sources under test throw the src `Da3Error` class, not the built one: check name and code. */
function expectCode(e: unknown, code: string) {
  expect(e).toMatchObject({ name: 'Da3Error', code });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('validateCheckpoint on the real tiny checkpoints', () => {
  it.each(['tiny', 'tiny-mono'])('%s: nothing missing, nothing unexpected, ties from metadata', async (dir) => {
    const config = tinyConfig(dir);
    const file = await tinyFile(dir);
    const report = assertValidCheckpoint(file, config);
    expect(report).toMatchObject({ missing: [], unexpected: [], shapeMismatches: [], dtypeMismatches: [], warnings: [], ok: true });
    expect(report.foundCount).toBe(report.expectedCount);
    expect(report.foundCount).toBe(file.names().length);
    expect(report.ties).toEqual(file.metadata);
    expect(Object.values(report.tieSources).every((s) => s === 'metadata')).toBe(true);
    expect(Object.keys(report.ties).length).toBe(dir === 'tiny' ? 6 : 0);
  });

  it('tiny-nested: the prefixed union validates and splits into two networks', async () => {
    const config = tinyConfig('tiny-nested');
    const file = await rewrite([
      ['tiny', 'model.da3.'],
      ['tiny-mono', 'model.da3_metric.'],
    ]);
    const { report, networks } = openCheckpoint(file, config);
    expect(report.ok).toBe(true);
    expect(report.unexpected).toEqual([]);
    expect(report.foundCount).toBe(463);
    expect(report.ties).toEqual(tiedTensors(config));
    expect(networks.map((n) => [n.role, n.prefix, n.config.head.type])).toEqual([
      ['anyview', 'model.da3.', 'DualDPT'],
      ['metric', 'model.da3_metric.', 'DPT'],
    ]);
    const [anyview, metric] = networks;
    // Each provider reads its own network with relative keys, ties resolved.
    const tinyAny = await loadTensors('tiny/model.safetensors');
    const tinyMono = await loadTensors('tiny-mono/model.safetensors');
    const a = await anyview.weights.get('backbone.pretrained.cls_token').load();
    const m = await metric.weights.get('backbone.pretrained.cls_token').load();
    expect(a).toEqual(tinyAny['model.backbone.pretrained.cls_token'].data);
    expect(m).toEqual(tinyMono['model.backbone.pretrained.cls_token'].data);
    const tiedRef = anyview.weights.get('head.scratch.output_conv2_aux.3.2.weight');
    expect(tiedRef.name).toBe('model.da3.head.scratch.output_conv2_aux.3.2.weight');
    expect(await tiedRef.load()).toEqual(tinyAny['model.head.scratch.output_conv2_aux.0.2.weight'].data);
    expect(metric.weights.has('head.scratch.sky_output_conv2.2.bias')).toBe(true);
    expect(metric.weights.has('cam_dec.fc_t.weight')).toBe(false);
    // Every key the networks need resolves through its provider; nothing is left unused.
    for (const n of networks) {
      for (const t of expectedTensors(n.config, '')) n.weights.get(t.name);
      for (const removed of Object.keys(tiedTensors(n.config, ''))) n.weights.get(removed);
      expect(n.weights.unused()).toEqual([]);
    }
  });

  it('a Nested file validated as a single network names the problem', async () => {
    const file = await rewrite([
      ['tiny', 'model.da3.'],
      ['tiny-mono', 'model.da3_metric.'],
    ]);
    const e = thrown(() => assertValidCheckpoint(file, tinyConfig('tiny')));
    expectCode(e, 'MISSING_TENSOR');
    expect((e as Error).message).toMatch(/309 of 309 required tensors missing/);
    expect((e as Error).message).toMatch(/"model\.da3\."/);
  });
});

describe('validateCheckpoint on damaged checkpoints', () => {
  const config = () => tinyConfig('tiny') as NetConfig;

  it('a removed key → MISSING_TENSOR naming it', async () => {
    const gone = 'model.backbone.pretrained.blocks.3.attn.q_norm.weight';
    const file = await rewrite([['tiny', 'model.']], (t) => {
      delete t[gone];
    });
    const report = validateCheckpoint(file, config());
    expect(report.missing).toEqual([gone]);
    expect(report.ok).toBe(false);
    const e = thrown(() => assertValidCheckpoint(file, config()));
    expectCode(e, 'MISSING_TENSOR');
    expect((e as Error).message).toContain('1 of 309 required tensors missing');
    expect((e as Error).message).toContain(gone);
  });

  it('many missing keys: the count and the first N, then "… and N more"', async () => {
    const file = await rewrite([['tiny', 'model.']], (t) => {
      for (const k of Object.keys(t)) if (k.includes('.blocks.')) delete t[k];
    });
    const report = validateCheckpoint(file, config());
    expect(report.missing.length).toBe(6 * 14 + 4 * 4);
    const e = thrown(() => assertValidCheckpoint(file, config(), { maxListed: 5 }));
    expect((e as Error).message).toMatch(/^checkpoint: 100 of 309 required tensors missing: (model\.[^,]+, ){4}model\.[^,]+ … and 95 more$/);
  });

  it('the kept tied tensor removed → MISSING_TENSOR for the kept name only', async () => {
    const file = await rewrite([['tiny', 'model.']], (t) => {
      delete t['model.head.scratch.output_conv2_aux.0.2.weight'];
    });
    expect(validateCheckpoint(file, config()).missing).toEqual(['model.head.scratch.output_conv2_aux.0.2.weight']);
  });

  it('a wrong shape → BAD_SHAPE with both shapes', async () => {
    const name = 'model.head.projects.1.weight';
    const file = await rewrite([['tiny', 'model.']], (t) => {
      t[name] = { dtype: 'F32', shape: [16, 64, 1, 1], data: new Float32Array(16 * 64) };
    });
    const report = validateCheckpoint(file, config());
    expect(report.missing).toEqual([]);
    expect(report.shapeMismatches).toEqual([{ name, expected: [16, 128, 1, 1], actual: [16, 64, 1, 1] }]);
    const e = thrown(() => assertValidCheckpoint(file, config()));
    expectCode(e, 'BAD_SHAPE');
    expect((e as Error).message).toContain(`${name}: [16, 64, 1, 1] ≠ expected [16, 128, 1, 1]`);
  });

  it('an integer tensor → UNSUPPORTED_DTYPE', async () => {
    const name = 'model.cam_dec.fc_t.bias';
    const file = await rewrite([['tiny', 'model.']], (t) => {
      t[name] = { dtype: 'I32', shape: [3], data: new Int32Array(3) };
    });
    expect(validateCheckpoint(file, config()).dtypeMismatches).toEqual([{ name, dtype: 'I32' }]);
    expectCode(thrown(() => assertValidCheckpoint(file, config())), 'UNSUPPORTED_DTYPE');
  });

  it('extra keys (a DINOv2 mask_token) are warnings, never errors', async () => {
    const extras = ['model.backbone.pretrained.mask_token', 'model.something_else'];
    const file = await rewrite([['tiny', 'model.']], (t) => {
      t[extras[0]] = { dtype: 'F32', shape: [1, 64], data: new Float32Array(64) };
      t[extras[1]] = { dtype: 'I64', shape: [1], data: new BigInt64Array(1) };
    });
    const report = assertValidCheckpoint(file, config());
    expect(report.ok).toBe(true);
    expect(report.unexpected).toEqual(extras);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/2 tensor\(s\) not used by this model, ignored: model\.backbone\.pretrained\.mask_token, model\.something_else/);
    const { networks } = openCheckpoint(file, config());
    for (const t of expectedTensors(config(), '')) networks[0].weights.get(t.name);
    expect(networks[0].weights.unused()).toEqual(extras);
  });

  it('no tie metadata → the known DualDPT tie is used (and the legacy provider cannot)', async () => {
    const file = await rewrite([['tiny', 'model.']], () => {}, null);
    expect(file.metadata).toEqual({});
    const report = assertValidCheckpoint(file, config());
    expect(report.ok).toBe(true);
    expect(report.ties).toEqual(tiedTensors(config()));
    expect(Object.values(report.tieSources)).toEqual(Array(6).fill('known'));
    expect(report.warnings.join('\n')).toMatch(/no __metadata__ tie for 6 shared key/);
    const { networks } = openCheckpoint(file, config());
    const ref = networks[0].weights.get('head.scratch.output_conv2_aux.2.2.bias');
    const stored = await file.readFloat32('model.head.scratch.output_conv2_aux.0.2.bias');
    expect(await ref.load()).toEqual(stored);
    expect(new CheckpointWeights(file).has('head.scratch.output_conv2_aux.2.2.bias')).toBe(false);
  });

  it('all four aux LayerNorm copies stored (a non-deduplicating writer) are accepted', async () => {
    const file = await rewrite([['tiny', 'model.']], (t) => {
      for (const [removed, kept] of Object.entries(tiedTensors(config()))) t[removed] = t[kept];
    }, null);
    const report = assertValidCheckpoint(file, config());
    expect(report).toMatchObject({ ok: true, unexpected: [], ties: {}, warnings: [] });
  });

  it('a wrong-shaped duplicate copy is still caught', async () => {
    const file = await rewrite([['tiny', 'model.']], (t) => {
      t['model.head.scratch.output_conv2_aux.1.2.weight'] = { dtype: 'F32', shape: [16], data: new Float32Array(16) };
    });
    const report = validateCheckpoint(file, config());
    expect(report.shapeMismatches.map((m) => m.name)).toEqual(['model.head.scratch.output_conv2_aux.1.2.weight']);
  });

  it('honours a custom prefix', async () => {
    const file = await rewrite([['tiny', '']]);
    expect(assertValidCheckpoint(file, config(), { prefix: '' }).ok).toBe(true);
    expect(validateCheckpoint(file, config()).foundCount).toBe(0);
  });
});

describe('every official variant validates its own (virtual) random checkpoint layout', () => {
  it.each(['DA3-SMALL', 'DA3-BASE', 'DA3-LARGE', 'DA3-GIANT', 'DA3MONO-LARGE', 'DA3NESTED-GIANT-LARGE'] as const)('%s', async (id) => {
    const config = VARIANTS[id].config;
    const layout = randomCheckpointLayout(config, { seed: 1 });
    // A byte source that serves the real header and zeros for the data (never read here).
    const names = Object.keys(layout.entries).sort();
    const header = encodeSafetensorsHeader(names.map((n) => [n, layout.entries[n]] as const), layout.metadata);
    const file = await SafetensorsFile.open({
      size: layout.byteLength,
      read: async (offset, length) => (offset + length <= header.byteLength ? header.subarray(offset, offset + length) : new Uint8Array(length)),
    });
    const report = assertValidCheckpoint(file, config);
    expect(report).toMatchObject({ ok: true, unexpected: [], warnings: [] });
    expect(report.foundCount).toBe(layout.tensorCount);
    expect(Object.values(report.tieSources).every((s) => s === 'metadata')).toBe(true);
    // A full-size model validated against another size fails with shape errors, not silently.
    if (id === 'DA3-SMALL') {
      const e = thrown(() => assertValidCheckpoint(file, VARIANTS['DA3-BASE'].config));
      expectCode(e, 'BAD_SHAPE');
    }
  });
});
