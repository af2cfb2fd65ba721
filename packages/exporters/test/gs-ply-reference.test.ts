import { createHash } from 'node:crypto';
import { type Prediction, type Sink, createPrediction } from '@da3js/core';
import { exportPrediction, gaussianPruneIndices, memorySink } from '@da3js/exporters';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadJson, loadTensors } from '../../../test-utils/fixtures.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';

/**
 * The `gs_ply` export against the file the reference wrote (fixtures/tiny-giant/multi,
 * `utils/export/gs.py export_to_gs_ply` with plyfile 1.1.3): from the reference's own Gaussians
 * and depth, our export is the same file byte for byte — header, pruning, record order and every
 * float.
 */
interface PlyCase {
  gs_ply: { header: string; vertex_count: number; file_bytes: number };
  gs_ply_interval2: { header: string; vertex_count: number; file_bytes: number; file_sha256: string };
}

async function exportGsPly(pred: Prediction, options: { gsViewsInterval?: number } = {}): Promise<Uint8Array> {
  const sink = memorySink();
  const open = (): Sink => sink;
  expect(await exportPrediction(pred, 'gs_ply', open, options)).toEqual(['gs_ply/0000.ply']);
  expect(sink.closed).toBe(true);
  return sink.bytes();
}

/** The 17 floats of a record: x y z nx ny nz f_dc×3 are copies (bit-exact), opacity and scale_0..2 logs (≤ 1 ulp), rot×4 copies. */
const LOG_FIELDS = new Set([9, 10, 11, 12]);

function ulpDistance(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (x: number) => (x < 0 ? -2147483648 - x : x); // monotonic in the float order
  return Math.abs(key(i[0]) - key(i[1]));
}

function compareRecords(ours: Uint8Array, ref: Uint8Array, count: number): { identical: number; total: number } {
  expect(ours.length).toBe(68 * count);
  expect(ref.length).toBe(68 * count);
  const a = new DataView(ours.buffer, ours.byteOffset, ours.byteLength);
  const b = new DataView(ref.buffer, ref.byteOffset, ref.byteLength);
  let identical = 0;
  const bad: string[] = [];
  for (let i = 0; i < 17 * count; i++) {
    const x = a.getFloat32(4 * i, true);
    const y = b.getFloat32(4 * i, true);
    if (a.getUint32(4 * i, true) === b.getUint32(4 * i, true)) identical++;
    else if (!LOG_FIELDS.has(i % 17) || ulpDistance(x, y) > 1) bad.push(`record ${Math.floor(i / 17)} field ${i % 17}: ${x} vs ${y}`);
  }
  expect(bad.slice(0, 5), `${bad.length} floats differ`).toEqual([]);
  return { identical, total: 17 * count };
}

describe('gs_ply export vs the reference file (tiny-giant/multi)', () => {
  let pred: Prediction;
  let ref: Uint8Array;
  let keptRef: number[];
  let kept2Ref: number[];
  let meta: PlyCase;
  beforeAll(async () => {
    pred = await fixturePrediction('tiny-giant', 'multi');
    const out = await loadTensors('tiny-giant/multi/outputs.safetensors');
    ref = out['gs_ply.bytes'].data as Uint8Array;
    keptRef = Array.from(out['gs_ply.kept_index'].data as BigInt64Array, Number);
    kept2Ref = Array.from(out['gs_ply_interval2.kept_index'].data as BigInt64Array, Number);
    meta = loadJson<{ gs_ply: PlyCase }>('tiny-giant/multi/case.json').gs_ply;
  });

  it('prunes exactly the reference’s Gaussians (border 1 px, per-view depth ≤ 0.9 quantile), in its order', () => {
    expect(pred.gaussians!.count).toBe(3 * 56 * 42);
    expect(Array.from(gaussianPruneIndices(pred))).toEqual(keptRef);
    expect(keptRef.length).toBe(5845);
    expect(Array.from(gaussianPruneIndices(pred, { viewsInterval: 2 }))).toEqual(kept2Ref);
  });

  it('writes the reference’s file: same header and records; copied fields bit for bit, logs within 1 ulp', async () => {
    const ours = await exportGsPly(pred);
    expect(ref.length).toBe(meta.gs_ply.file_bytes);
    expect(ours.length).toBe(ref.length);
    const headerLen = meta.gs_ply.header.length;
    expect(new TextDecoder().decode(ours.subarray(0, headerLen))).toBe(meta.gs_ply.header);
    const { identical, total } = compareRecords(ours.subarray(headerLen), ref.subarray(headerLen), meta.gs_ply.vertex_count);
    // torch's float32 log (SLEEF) is not always correctly rounded: a few logs sit 1 ulp apart.
    console.log(`gs_ply: ${identical} of ${total} floats bit-identical to the reference's file`);
    expect(identical / total).toBeGreaterThan(0.99);
  });

  it('gsViewsInterval 2: the reference’s header, then the gs_ply records of views 0 and 2', async () => {
    const ours = await exportGsPly(pred, { gsViewsInterval: 2 });
    const h2 = meta.gs_ply_interval2.header;
    expect(new TextDecoder().decode(ours.subarray(0, h2.length))).toBe(h2);
    expect(ours.length).toBe(meta.gs_ply_interval2.file_bytes);
    // The reference's interval-2 file (sha256 in case.json) is its header + these records of gs_ply.bytes.
    const recordOf = new Map(keptRef.map((g, j) => [g, j]));
    const base = meta.gs_ply.header.length;
    const refRecords = new Uint8Array(68 * kept2Ref.length);
    for (let j = 0; j < kept2Ref.length; j++) {
      const r = recordOf.get(kept2Ref[j])!;
      refRecords.set(ref.subarray(base + 68 * r, base + 68 * (r + 1)), 68 * j);
    }
    const refFile = new Uint8Array([...new TextEncoder().encode(h2), ...refRecords]);
    expect(createHash('sha256').update(refFile).digest('hex')).toBe(meta.gs_ply_interval2.file_sha256);
    compareRecords(ours.subarray(h2.length), refRecords, kept2Ref.length);
  });

  it('writes log of a negative scale as NaN, as the reference does, and refuses Gaussians that are not one per pixel', async () => {
    const g = pred.gaussians!;
    const scales = Float32Array.from(g.scales);
    const i = keptRef[10];
    scales[3 * i] = -0.5;
    scales[3 * i + 1] = 0;
    const ours = await exportGsPly(createPrediction({ ...pred, gaussians: { ...g, scales } }));
    const rec = new DataView(ours.buffer, ours.byteOffset + meta.gs_ply.header.length + 68 * 10, 68);
    expect(rec.getFloat32(40, true)).toBeNaN();
    expect(rec.getFloat32(44, true)).toBe(Number.NEGATIVE_INFINITY);
    const fewer = { ...g, count: 1, means: g.means.slice(0, 3), scales: g.scales.slice(0, 3), rotations: g.rotations.slice(0, 4), harmonics: g.harmonics.slice(0, 27), opacities: g.opacities.slice(0, 1) };
    await expect(exportGsPly(createPrediction({ ...pred, gaussians: fewer }))).rejects.toMatchObject({ code: 'BAD_SHAPE' });
  });
});
