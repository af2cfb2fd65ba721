import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Prediction, createPrediction } from '@da3js/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import { type NpyArray, decodeNpy, encodeNpy, npyHeader, readNpz, roundLikeNumpy, writeNpz, writePredictionNpz } from '../src/npz/index.js';
import { memorySink } from '../src/writer.js';
import { expectCode, expectCodeAsync, PY, requireNumpy, watchedSink } from './helpers/shared.js';

// Debian's python3 with python3-numpy (NOT a pyenv python): the reference's numpy<2 series.
const SCRIPT = join(__dirname, 'python', 'check_npz.py');


function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function npzBytes(entries: Parameters<typeof writeNpz>[0], options?: Parameters<typeof writeNpz>[2]): Promise<Uint8Array> {
  const sink = memorySink();
  await writeNpz(entries, sink, options);
  expect(sink.closed).toBe(true);
  return sink.bytes();
}

describe('npy header', () => {
  it('is byte-for-byte what numpy 1.x np.save writes (growth room, 64-byte alignment)', () => {
    const text = (h: Uint8Array) => String.fromCharCode(...h);
    const h = npyHeader('float32', [3, 56, 84]);
    expect(h.length).toBe(128);
    expect(text(h)).toBe(`\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3, 56, 84), }${' '.repeat(53)}\n`);
    expect(text(npyHeader('uint8', [3]))).toBe(`\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }${' '.repeat(60)}\n`);
    expect(text(npyHeader('int64', []))).toBe(`\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (), }${' '.repeat(62)}\n`);
    expect(text(npyHeader('uint16', [0, 3]))).toBe(`\x93NUMPY\x01\x00v\x00{'descr': '<u2', 'fortran_order': False, 'shape': (0, 3), }${' '.repeat(58)}\n`);
    for (const shape of [[1], [12345678901234], [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]]) expect(npyHeader('bool', shape).length % 64).toBe(0);
  });

  it('decodeNpy(encodeNpy(a)) is bit-exact', () => {
    const a: NpyArray = { dtype: 'float32', shape: [2, 2], data: new Float32Array([Number.NaN, -0, Number.POSITIVE_INFINITY, 1e-45]) };
    const b = decodeNpy(encodeNpy(a));
    expect(b.dtype).toBe('float32');
    expect(b.shape).toEqual([2, 2]);
    expect(bytesOf(b.data)).toEqual(bytesOf(a.data));
  });
});

describe('writeNpz → readNpz round trip', () => {
  const arrays: Record<string, NpyArray> = {
    f32: { dtype: 'float32', shape: [2, 3], data: new Float32Array([1.5, -0, Number.NaN, Number.NEGATIVE_INFINITY, 3.4028234663852886e38, 1e-45]) },
    f64: { dtype: 'float64', shape: [3], data: new Float64Array([Math.PI, -Number.MIN_VALUE, Number.NaN]) },
    u8: { dtype: 'uint8', shape: [2, 2, 2], data: Uint8Array.from([0, 1, 2, 127, 128, 200, 254, 255]) },
    i64: { dtype: 'int64', shape: [4], data: BigInt64Array.from([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n]) },
    bool: { dtype: 'bool', shape: [5], data: Uint8Array.from([1, 0, 0, 1, 1]) },
    i8: { dtype: 'int8', shape: [2], data: Int8Array.from([-128, 127]) },
    u16: { dtype: 'uint16', shape: [2], data: Uint16Array.from([0, 65535]) },
    i16: { dtype: 'int16', shape: [2], data: Int16Array.from([-32768, 32767]) },
    u32: { dtype: 'uint32', shape: [1], data: Uint32Array.from([4294967295]) },
    i32: { dtype: 'int32', shape: [1, 1], data: Int32Array.from([-5]) },
    u64: { dtype: 'uint64', shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
    scalar: { dtype: 'float64', shape: [], data: new Float64Array([-2.5]) },
    empty: { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
  };

  for (const options of [{}, { compression: 'store' as const }, { zip64: 'always' as const }, { level: 9 }]) {
    it(`is bit-exact for every dtype ${JSON.stringify(options)}`, async () => {
      const back = readNpz(await npzBytes(arrays, options));
      expect(Object.keys(back)).toEqual(Object.keys(arrays));
      for (const [k, a] of Object.entries(arrays)) {
        expect(back[k].dtype, k).toBe(a.dtype);
        expect(back[k].shape, k).toEqual(a.shape);
        expect(back[k].data.constructor, k).toBe(a.data.constructor);
        expect(bytesOf(back[k].data), k).toEqual(bytesOf(a.data));
      }
    });
  }

  it('names special on a JS object (__proto__, constructor) read back as ordinary keys', async () => {
    const a = { dtype: 'float32', shape: [1], data: Float32Array.of(1) } as const;
    const b = { dtype: 'int8', shape: [2], data: Int8Array.of(2, 3) } as const;
    const read = readNpz(await npzBytes(new Map<string, NpyArray>([['__proto__', a], ['constructor', b]])));
    expect(Object.keys(read)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(read, '__proto__')?.value.data).toEqual(a.data);
    expect(read.constructor.data).toEqual(b.data);
  });

  it('is deterministic (same bytes twice) and accepts a Map or pairs in order', async () => {
    const a = await npzBytes(arrays);
    expect(await npzBytes(new Map(Object.entries(arrays)))).toEqual(a);
    const pairs = Object.entries(arrays).reverse();
    expect(Object.keys(readNpz(await npzBytes(pairs)))).toEqual(pairs.map(([k]) => k));
  });

  it('deflates natively (CompressionStream) at level 6 and with fflate elsewhere; both read back bit-exact', async () => {
    const big = new Float32Array(2 * 1024 * 1024 + 3);
    for (let i = 0; i < big.length; i++) big[i] = 1 + 0.5 * Math.sin(i / 500) + (i % 7) * 1e-3;
    const input = { big: { dtype: 'float32', shape: [big.length], data: big } } as const;
    const native = await npzBytes(input);
    const saved = globalThis.CompressionStream;
    let fallback: Uint8Array;
    try {
      // A platform without CompressionStream (or without its 'deflate-raw' format).
      (globalThis as { CompressionStream?: unknown }).CompressionStream = undefined;
      fallback = await npzBytes(input);
    } finally {
      globalThis.CompressionStream = saved;
    }
    // Node's zlib and fflate are different encoders of the same format: different bytes, both valid.
    expect(Buffer.from(native).equals(Buffer.from(fallback))).toBe(false);
    for (const bytes of [native, fallback]) expect(Buffer.from(bytesOf(readNpz(bytes).big.data)).equals(bytesOf(big))).toBe(true);
    // Level 6 either way: sizes within 2% of each other (level 1 or 9 would differ more or not at all).
    expect(Math.abs(native.length - fallback.length) / fallback.length).toBeLessThan(0.02);
  });

  it('handles a large array across many deflate slices', async () => {
    const big = new Float32Array(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = Math.sin(i) * 100;
    const back = readNpz(await npzBytes({ big: { dtype: 'float32', shape: [big.length], data: big } }));
    expect(Buffer.from(bytesOf(back.big.data)).equals(bytesOf(big))).toBe(true);
  });
});

describe('bad inputs', () => {
  const good: NpyArray = { dtype: 'float32', shape: [2], data: new Float32Array(2) };

  it('writeNpz: typed errors, and the sink is aborted', async () => {
    const cases: [Parameters<typeof writeNpz>[0], string][] = [
      [{}, 'EMPTY_INPUT'],
      [{ a: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }, 'BAD_SHAPE'],
      [{ a: { dtype: 'float32', shape: [-1], data: new Float32Array(0) } }, 'BAD_SHAPE'],
      [{ a: { dtype: 'float64', shape: [2], data: new Float32Array(2) } as unknown as NpyArray }, 'BAD_VALUE'],
      [{ a: { dtype: 'complex64', shape: [2], data: new Float32Array(2) } as unknown as NpyArray }, 'BAD_VALUE'],
      [{ a: { dtype: 'bool', shape: [1], data: Uint8Array.from([2]) } }, 'BAD_VALUE'],
      [{ '': good }, 'BAD_VALUE'],
      [
        [
          ['a', good],
          ['a', good],
        ],
        'BAD_VALUE',
      ],
    ];
    for (const [entries, code] of cases) {
      const { sink, state } = watchedSink();
      await expectCodeAsync(writeNpz(entries, sink), code);
      expect(state.aborted, code).toBe(true);
      expect(state.closed, code).toBe(false);
    }
    const { sink, state } = watchedSink();
    await expectCodeAsync(writeNpz({ a: good }, sink, { level: 11 }), 'BAD_VALUE');
    expect(state.aborted).toBe(true);
  });

  it('readNpz: not a zip, truncated, corrupt data (CRC), bad .npy header → typed errors', async () => {
    const ok = await npzBytes({ a: good }, { compression: 'store' });
    expectCode(() => readNpz(new Uint8Array(0)), 'UNKNOWN_FORMAT');
    expectCode(() => readNpz(new TextEncoder().encode('definitely not a zip archive, just text')), 'UNKNOWN_FORMAT');
    expectCode(() => readNpz(ok.subarray(0, ok.length - 5)), 'UNKNOWN_FORMAT');
    expectCode(() => readNpz(ok.subarray(40)), 'UNKNOWN_FORMAT');
    // Flip one data byte of the stored entry (local header 30 + 'a.npy' 5 + npy header 128): CRC mismatch.
    const flipped = ok.slice();
    flipped[30 + 5 + 128] ^= 0xff;
    expectCode(() => readNpz(flipped), 'UNKNOWN_FORMAT');
    // Corrupt deflate stream.
    const deflated = await npzBytes({ a: { dtype: 'float32', shape: [64], data: new Float32Array(64).fill(1) } });
    const broken = deflated.slice();
    for (let i = 40; i < 60; i++) broken[i] = 0xff;
    expectCode(() => readNpz(broken), 'UNKNOWN_FORMAT');
    // Valid zips whose entries are not .npy, have broken headers, or the wrong data length.
    const { writeZip } = await import('../src/npz/zip.js');
    const { ChunkWriter } = await import('../src/writer.js');
    const zipOf = async (bytes: Uint8Array) => {
      const sink = memorySink();
      const out = new ChunkWriter(sink);
      await writeZip(out, [{ name: 'x.npy', parts: [bytes] }]);
      await out.close();
      return sink.bytes();
    };
    const header = (dict: string) => Uint8Array.from(`\x93NUMPY\x01\x00${String.fromCharCode(dict.length + 1, 0)}${dict}\n`, (c) => c.charCodeAt(0));
    const notNpy = await zipOf(new TextEncoder().encode('hello'));
    expectCode(() => readNpz(notNpy), 'UNKNOWN_FORMAT');
    for (const dict of [
      "{'descr': '<f4', 'fortran_order': False}",
      "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
      "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk",
    ]) {
      const bytes = await zipOf(new Uint8Array([...header(dict), 0, 0, 0, 0]));
      expectCode(() => readNpz(bytes), 'UNKNOWN_FORMAT');
    }
    const good2 = await zipOf(new Uint8Array([...header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"), 0, 0, 0x80, 0x3f]));
    expect(Array.from(readNpz(good2).x.data as Float32Array)).toEqual([1]);
    const shortData = await zipOf(new Uint8Array([...header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"), 0, 0, 0, 0]));
    expectCode(() => readNpz(shortData), 'BAD_SHAPE');
  });

  it('readNpz: a declared size deflate cannot reach (a bomb) is refused before allocating or inflating', () => {
    /** One-entry ZIP with the given method, raw data and declared uncompressed size. */
    const zipWith = (method: number, raw: Uint8Array, declared: number) => {
      const name = new TextEncoder().encode('a.npy');
      const local = new Uint8Array(30 + name.length + raw.length);
      const lv = new DataView(local.buffer);
      lv.setUint32(0, 0x04034b50, true);
      lv.setUint16(8, method, true);
      lv.setUint32(18, raw.length, true);
      lv.setUint32(22, declared, true);
      lv.setUint16(26, name.length, true);
      local.set(name, 30);
      local.set(raw, 30 + name.length);
      const central = new Uint8Array(46 + name.length);
      const cv = new DataView(central.buffer);
      cv.setUint32(0, 0x02014b50, true);
      cv.setUint16(10, method, true);
      cv.setUint32(20, raw.length, true);
      cv.setUint32(24, declared, true);
      cv.setUint16(28, name.length, true);
      central.set(name, 46);
      const end = new Uint8Array(22);
      const ev = new DataView(end.buffer);
      ev.setUint32(0, 0x06054b50, true);
      ev.setUint16(8, 1, true);
      ev.setUint16(10, 1, true);
      ev.setUint32(12, central.length, true);
      ev.setUint32(16, local.length, true);
      return new Uint8Array([...local, ...central, ...end]);
    };
    const emptyDeflate = Uint8Array.of(0x03, 0x00); // one final empty fixed-Huffman block
    const t0 = performance.now();
    expectCode(() => readNpz(zipWith(8, emptyDeflate, 4_000_000_000)), 'UNKNOWN_FORMAT', /declares 4000000000 bytes from 2 compressed \(more than deflate's 1032:1\)/);
    expectCode(() => readNpz(zipWith(8, new Uint8Array(1024), 1024 * 1032 + 65)), 'UNKNOWN_FORMAT', /more than deflate's 1032:1/);
    expectCode(() => readNpz(zipWith(0, new Uint8Array(16), 1_000_000)), 'UNKNOWN_FORMAT', /stored entry "a.npy" says 1000000 bytes but holds 16/);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('decodeNpy: a 3.0 header that is not UTF-8 and a header over NumPy’s 10000 bytes are typed errors (fuzz findings)', () => {
    /** A `.npy` of the given version with `dict` (bytes) as its header, then 4 data bytes. */
    const npy = (major: number, dict: Uint8Array) => {
      const out = new Uint8Array(12 + dict.length + 4);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
      new DataView(out.buffer).setUint32(8, dict.length, true);
      out.set(dict, 12);
      return out;
    };
    const dict = (s: string) => new TextEncoder().encode(s);
    // Used to escape as a TypeError from TextDecoder.
    const latin1 = dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n");
    latin1[3] = 0xe9;
    expectCode(() => decodeNpy(npy(3, latin1)), 'UNKNOWN_FORMAT', /3\.0 header is not valid UTF-8/);
    // Used to overflow the stack (String.fromCharCode(...header)) as a RangeError.
    const long = dict(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }${' '.repeat(200_000)}\n`);
    expectCode(() => decodeNpy(npy(2, long)), 'UNKNOWN_FORMAT', /header of 200058 bytes is longer than 10000/);
    // Just under the limit still reads.
    const padded = dict(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }${' '.repeat(9000)}\n`);
    expect(decodeNpy(npy(2, padded)).shape).toEqual([1]);
  });

  it('writePredictionNpz: NaN camera, mismatched shapes → typed errors; the sink is aborted', async () => {
    const p = await fixturePrediction('tiny', 'multi');
    const nanK = { ...p, intrinsics: p.intrinsics!.slice() } as Prediction;
    (nanK.intrinsics as Float32Array)[4] = Number.NaN;
    const shortDepth = { ...p, depth: p.depth.subarray(1) } as Prediction;
    const shortConf = { ...p, conf: p.conf!.subarray(1) } as Prediction;
    const badViews = { ...p, views: 0 } as Prediction;
    for (const [pred, code, mini] of [
      [nanK, 'NON_FINITE', true],
      [shortDepth, 'BAD_SHAPE', true],
      [shortConf, 'BAD_SHAPE', false],
      [badViews, 'BAD_SHAPE', false],
      [{ ...p, processedImages: p.processedImages.subarray(3) } as Prediction, 'BAD_SHAPE', false],
    ] as const) {
      const { sink, state } = watchedSink();
      await expectCodeAsync(writePredictionNpz(pred, sink, { mini }), code);
      expect(state.aborted).toBe(true);
    }
  });
});

describe('npz / mini_npz of the tiny/multi prediction, checked by NumPy', () => {
  let dir = '';
  let pred: Prediction;
  let result: {
    ok: boolean;
    errors: string[];
    sizes: Record<string, { da3js: number; numpy: number }>;
    rounding: Record<string, { n: number; mismatches: number }>;
    keys: Record<string, string[]>;
  };

  beforeAll(async () => {
    pred = await fixturePrediction('tiny', 'multi');
    dir = mkdtempSync(join(tmpdir(), 'da3js-npz-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keys, dtypes, shapes and values equal the reference (np.round computed by NumPy); .npy bytes equal np.save', async (ctx) => {
    requireNumpy(ctx);
    const { views: N, height: H, width: W } = pred;
    const sources: Record<string, { file: string; dtype: string; shape: number[] }> = {};
    const raw = (name: string, dtype: string, shape: number[], data: ArrayBufferView) => {
      writeFileSync(join(dir, `${name}.bin`), bytesOf(data));
      sources[name] = { file: `${name}.bin`, dtype, shape };
    };
    raw('image', 'uint8', [N, H, W, 3], pred.processedImages);
    raw('depth', 'float32', [N, H, W], pred.depth);
    raw('conf', 'float32', [N, H, W], pred.conf!);
    raw('extrinsics', 'float32', [N, 3, 4], pred.extrinsics!);
    raw('intrinsics', 'float32', [N, 3, 3], pred.intrinsics!);
    const outputs: Record<string, { file: string; mini: boolean }> = {};
    for (const [label, mini, extra] of [
      ['npz', false, {}],
      ['mini_npz', true, {}],
      ['mini_npz_zip64', true, { zip64: 'always' as const }],
    ] as const) {
      const sink = memorySink();
      const r = await writePredictionNpz(pred, sink, { mini, ...extra });
      expect(r.keys).toEqual(mini ? ['depth', 'conf', 'extrinsics', 'intrinsics'] : ['image', 'depth', 'conf', 'extrinsics', 'intrinsics']);
      expect(r.bytes).toBe(sink.bytes().length);
      writeFileSync(join(dir, `${label}.npz`), sink.bytes());
      outputs[label] = { file: `${label}.npz`, mini };
    }
    // Rounding stress: the prediction's values plus ties, signs, tiny and huge magnitudes.
    const stress = new Float32Array(200_000);
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < stress.length; i++) {
      const k = i % 8;
      const m = rnd();
      stress[i] =
        k === 0 ? pred.depth[i % pred.depth.length]
        : k === 1 ? pred.conf![i % pred.conf!.length]
        : k === 2 ? (Math.floor(m * 2000) - 1000) / 200 + 0.005 // near 2-decimal ties
        : k === 3 ? (m - 0.5) * 10 ** (Math.floor(rnd() * 80) - 40)
        : k === 4 ? Math.floor(m * 1e6) / 2 ** 20 // dyadic values, exact ties at some decimals
        : k === 5 ? (m - 0.5) * 1e-7
        : k === 6 ? [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 3.4e38, -1e-45, 0.125][i % 8]
        : m * 100;
    }
    writeFileSync(join(dir, 'round_src.bin'), bytesOf(stress));
    const ours: Record<string, string> = {};
    for (const d of [0, 1, 2, 4, 6, 8]) {
      writeFileSync(join(dir, `round_${d}.bin`), bytesOf(roundLikeNumpy(stress, d)));
      ours[d] = `round_${d}.bin`;
    }
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ sources, outputs, rounding: { file: 'round_src.bin', ours } }));
    const run = spawnSync(PY, [SCRIPT, dir], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    result = JSON.parse(run.stdout);
    console.info(`numpy ${JSON.stringify((result as unknown as { numpy: string }).numpy)} sizes ${JSON.stringify(result.sizes)} rounding ${JSON.stringify(result.rounding)}`);
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.keys.npz).toEqual(['image', 'depth', 'conf', 'extrinsics', 'intrinsics']);
    expect(result.keys.mini_npz).toEqual(['depth', 'conf', 'extrinsics', 'intrinsics']);
    for (const r of Object.values(result.rounding)) expect(r.mismatches).toBe(0);
    // Same deflate family as zlib level 6: within 10% of numpy's file size.
    for (const [label, sz] of Object.entries(result.sizes)) expect(Math.abs(sz.da3js - sz.numpy) / sz.numpy, label).toBeLessThan(0.1);
  });

  it('readNpz reads NumPy-written archives (deflate and stored; Fortran order, big-endian, 0-d, empty)', async (ctx) => {
    if (!requireNumpy(ctx)) return;
    // NumPy is here, so the comparison above must have run and made the archives: no skipping.
    expect(result, 'the NumPy comparison of the previous test did not run').toBeDefined();
    for (const file of ['numpy_deflate.npz', 'numpy_stored.npz']) {
      const z = readNpz(new Uint8Array(readFileSync(join(dir, file))));
      expect(Object.keys(z)).toEqual(['f32', 'f64_fortran', 'i32_big', 'flags', 'u8', 'scalar_i64', 'empty_u16']);
      expect(z.f32.shape).toEqual([2, 3, 4]);
      expect(Array.from(z.f32.data as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => i * 0.5));
      expect(z.f64_fortran.shape).toEqual([3, 4]);
      expect(Array.from(z.f64_fortran.data as Float64Array)).toEqual(Array.from({ length: 12 }, (_, i) => i / 3));
      expect(z.i32_big.dtype).toBe('int32');
      expect(Array.from(z.i32_big.data as Int32Array)).toEqual([-2, -1, 0, 1, 2, 3]);
      expect(z.flags).toEqual({ dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) });
      expect(Array.from(z.u8.data as Uint8Array)).toEqual([250, 251, 252, 253, 254, 255]);
      expect(z.scalar_i64.shape).toEqual([]);
      expect(z.scalar_i64.data).toEqual(BigInt64Array.from([-7n]));
      expect(z.empty_u16.shape).toEqual([0, 3]);
      expect(z.empty_u16.data.length).toBe(0);
    }
    // And da3js reads back its own prediction files bit-exactly.
    const mini = readNpz(new Uint8Array(readFileSync(join(dir, 'mini_npz_zip64.npz'))));
    expect(bytesOf(mini.depth.data)).toEqual(bytesOf(roundLikeNumpy(pred.depth, 8)));
    expect(bytesOf(mini.extrinsics.data)).toEqual(bytesOf(pred.extrinsics!));
  });

  it('mono-style predictions (no conf / cameras) write only the non-null keys', async () => {
    const p = createPrediction({ views: 1, height: 2, width: 2, depth: new Float32Array([1, 2, 3, 4]), processedImages: new Uint8Array(12) });
    for (const mini of [true, false]) {
      const sink = memorySink();
      const r = await writePredictionNpz(p, sink, { mini });
      expect(r.keys).toEqual(mini ? ['depth'] : ['image', 'depth']);
      const z = readNpz(sink.bytes());
      expect(z.depth.shape).toEqual([1, 2, 2]);
      if (!mini) expect(z.image.shape).toEqual([1, 2, 2, 3]);
    }
  });
});
