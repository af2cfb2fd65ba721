import {
  Da3Error,
  SafetensorsFile,
  bfloat16ToFloat32,
  float16ToFloat32,
  float32ToFloat16Bits,
  memoryByteSource,
  writeSafetensors,
  writeSafetensorsToSink,
} from '@da3js/core';
import { describe, expect, it } from 'vitest';

function header(json: string, dataBytes = 0): Uint8Array {
  const body = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + body.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
  out.set(body, 8);
  return out;
}

async function codeOf(bytes: Uint8Array, maxHeaderBytes?: number): Promise<[string | undefined, string]> {
  try {
    await SafetensorsFile.open(memoryByteSource(bytes), { maxHeaderBytes });
  } catch (e) {
    return [e instanceof Da3Error ? e.code : 'not a Da3Error', (e as Error).message];
  }
  return [undefined, ''];
}

describe('safetensors round trip', () => {
  it('writes and reads back every dtype bit-exactly, with metadata', async () => {
    const tensors = {
      'b.f32': { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-30, Number.POSITIVE_INFINITY, -0]) },
      'a.f64': { dtype: 'F64' as const, shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
      'c.i64': { dtype: 'I64' as const, shape: [3], data: BigInt64Array.from([1n, -2n, 9007199254740993n]) },
      'd.u8': { dtype: 'U8' as const, shape: [1, 1, 3], data: Uint8Array.from([0, 128, 255]) },
      'e.bool': { dtype: 'BOOL' as const, shape: [2], data: Uint8Array.from([1, 0]) },
      'f.f16': { dtype: 'F16' as const, shape: [3], data: float32ToFloat16Bits(Float32Array.from([1, 0.5, -65504])) },
      'g.scalar': { dtype: 'F32' as const, shape: [], data: Float32Array.from([7]) },
      'h.empty': { dtype: 'F32' as const, shape: [0, 4], data: new Float32Array(0) },
    };
    const bytes = writeSafetensors(tensors, { format: 'pt', tied: 'x' });
    const st = await SafetensorsFile.open(memoryByteSource(bytes));
    expect(st.names()).toEqual(Object.keys(tensors).sort());
    expect(st.metadata).toEqual({ format: 'pt', tied: 'x' });
    expect(st.header.headerLength % 8).toBe(0);
    for (const [name, t] of Object.entries(tensors)) {
      expect(st.info(name).shape).toEqual(t.shape);
      expect(Array.from(await st.read(name) as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
    }
    expect(Array.from(await st.readFloat32('f.f16'))).toEqual([1, 0.5, -65504]);
    expect(Array.from(await st.readFloat32('a.f64'))).toEqual([Math.fround(Math.PI), Number.NEGATIVE_INFINITY]);
    await expect(st.readFloat32('c.i64')).rejects.toMatchObject({ code: 'UNSUPPORTED_DTYPE' });
    await expect(st.read('nope')).rejects.toMatchObject({ code: 'MISSING_TENSOR' });
  });

  it('streams into a sink one tensor at a time, and aborts the sink on error', async () => {
    const chunks: Uint8Array[] = [];
    let closed = false;
    await writeSafetensorsToSink(
      { w: { dtype: 'F32', shape: [2], load: () => Float32Array.from([1, 2]) } },
      { write: (c) => void chunks.push(c.slice()), close: () => void (closed = true) },
    );
    expect(closed).toBe(true);
    const joined = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      joined.set(c, at);
      at += c.length;
    }
    expect(Array.from(await (await SafetensorsFile.open(memoryByteSource(joined))).readFloat32('w'))).toEqual([1, 2]);
    let aborted = false;
    await expect(
      writeSafetensorsToSink(
        { w: { dtype: 'F32', shape: [3], load: () => Float32Array.from([1, 2]) } },
        { write: () => {}, abort: () => void (aborted = true) },
      ),
    ).rejects.toMatchObject({ code: 'BAD_SHAPE' });
    expect(aborted).toBe(true);
  });

  it('converts half and bfloat16 exactly', () => {
    const values = Float32Array.from([0, -0, 1, -2.5, 65504, 6.103515625e-5, 2 ** -24, Number.POSITIVE_INFINITY]);
    expect(Array.from(float16ToFloat32(float32ToFloat16Bits(values)))).toEqual(Array.from(values));
    expect(float32ToFloat16Bits(Float32Array.from([65520]))[0]).toBe(0x7c00);
    expect(float32ToFloat16Bits(Float32Array.from([1 + 2 ** -11]))[0]).toBe(0x3c00);
    expect(Array.from(bfloat16ToFloat32(Uint16Array.from([0x3f80, 0xc020])))).toEqual([1, -2.5]);
  });
});

describe('malformed safetensors give typed errors before any large allocation', () => {
  const good = writeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }, b: { dtype: 'U8', shape: [4], data: new Uint8Array(4) } });

  it('too short for the length prefix', async () => {
    expect(await codeOf(new Uint8Array(5))).toEqual(['BAD_SAFETENSORS', expect.stringMatching(/shorter than the 8-byte header/)]);
  });
  it('a header length beyond the file or the limit', async () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 60n, true);
    expect(await codeOf(huge)).toEqual(['BAD_SAFETENSORS', expect.stringMatching(/exceeds the limit/)]);
    const past = new Uint8Array(16);
    new DataView(past.buffer).setBigUint64(0, 1000n, true);
    expect(await codeOf(past)).toEqual(['BAD_SAFETENSORS', expect.stringMatching(/runs past the end/)]);
    expect((await codeOf(good, 16))[0]).toBe('BAD_SAFETENSORS');
  });
  it('truncated data', async () => {
    expect(await codeOf(good.subarray(0, good.length - 3))).toEqual(['BAD_SAFETENSORS', expect.stringMatching(/run past the .*data section/)]);
  });
  it('not JSON / not an object', async () => {
    expect(await codeOf(header('{"a": '))).toEqual(['BAD_SAFETENSORS', expect.stringMatching(/not valid UTF-8 JSON/)]);
    expect(await codeOf(header('[1, 2]  '))).toEqual(['BAD_SAFETENSORS', expect.stringMatching(/must begin with "\{"/)]);
  });
  it('a header that does not begin with "{" (the format requires it), even valid JSON after spaces', async () => {
    expect(await codeOf(header(' {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4))).toEqual(['BAD_SAFETENSORS', expect.stringMatching(/must begin with "\{" \(0x7B\), found byte 0x20/)]);
    expect(await codeOf(header('\ufeff{}'))).toEqual(['BAD_SAFETENSORS', expect.stringMatching(/found byte 0xef/)]);
    // Trailing space padding is allowed.
    expect(await codeOf(header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}     ', 4))).toEqual([undefined, '']);
  });
  it('duplicate tensor names (JSON.parse would silently keep the last)', async () => {
    const dup = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(await codeOf(header(dup, 8))).toEqual(['BAD_SAFETENSORS', expect.stringMatching(/names tensor "a" twice/)]);
    // Escapes are decoded before comparing; nested keys (metadata, entries) are not tensor names.
    const escaped = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0061":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect((await codeOf(header(escaped, 8)))[1]).toMatch(/names tensor "a" twice/);
    const nested = '{"__metadata__":{"a":"1","dtype":"x"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"q\\"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect(await codeOf(header(nested, 8))).toEqual([undefined, '']);
  });
  it('unknown dtype', async () => {
    expect(await codeOf(header('{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', 16))).toEqual([
      'UNSUPPORTED_DTYPE',
      expect.stringMatching(/"a" has dtype "F128"/),
    ]);
  });
  it('shape × dtype ≠ byte length', async () => {
    expect(await codeOf(header('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8))).toEqual([
      'BAD_SAFETENSORS',
      expect.stringMatching(/needs 12 bytes but data_offsets span 8/),
    ]);
  });
  it('negative or non-integer shapes and offsets', async () => {
    expect((await codeOf(header('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4)))[1]).toMatch(/invalid shape/);
    expect((await codeOf(header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', 4)))[1]).toMatch(/invalid data_offsets/);
  });
  it('overlapping tensors and holes', async () => {
    expect(
      (await codeOf(header('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8)))[1],
    ).toMatch(/overlaps/);
    expect((await codeOf(header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8)))[1]).toMatch(/hole/);
    expect((await codeOf(header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 8)))[1]).toMatch(/tensors cover 4/);
  });
  it('bad metadata', async () => {
    expect((await codeOf(header('{"__metadata__":{"k":1}}')))[1]).toMatch(/__metadata__\["k"\] is not a string/);
  });
});
