import { createRequire } from 'node:module';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as esm from '@da3js/exporters';
import { ChunkWriter, memorySink, withSink } from '@da3js/exporters';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-utils/fixtures.js';

describe('@da3js/exporters package', () => {
  it('resolves the same API through import and require', () => {
    const cjs = createRequire(import.meta.url)('@da3js/exporters') as typeof esm;
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
    expect(typeof cjs.memorySink).toBe('function');
  });

  it('imports no Node built-in (it must run in browsers)', () => {
    const files = (function walk(d: string): string[] {
      return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : n.endsWith('.ts') ? [join(d, n)] : []));
    })(join(REPO_ROOT, 'packages/exporters/src'));
    const bad = files.filter((f) => /from\s+['"](node:|fs|path|os|zlib|stream|buffer|crypto|child_process)/.test(readFileSync(f, 'utf8')));
    expect(files.length).toBeGreaterThan(0);
    expect(bad).toEqual([]);
  });
});

describe('ChunkWriter', () => {
  it('writes little-endian values in chunks and closes the sink', async () => {
    const sink = memorySink();
    const out = new ChunkWriter(sink, 8);
    out.u32(0x01020304);
    out.f32(1.5);
    out.text('ok');
    await out.flushIfFull();
    expect(sink.chunks).toHaveLength(1);
    out.f64(-2);
    out.u8(7);
    await out.close();
    expect(sink.closed).toBe(true);
    const b = sink.bytes();
    const v = new DataView(b.buffer);
    expect(v.getUint32(0, true)).toBe(0x01020304);
    expect(v.getFloat32(4, true)).toBe(1.5);
    expect(new TextDecoder().decode(b.subarray(8, 10))).toBe('ok');
    expect(v.getFloat64(10, true)).toBe(-2);
    expect(b[18]).toBe(7);
    expect(out.written).toBe(19);
  });

  it('aborts the sink when the writer throws, leaving nothing behind', async () => {
    const sink = memorySink();
    let aborted = false;
    const wrapped = { ...sink, write: sink.write, abort: () => void (aborted = true) };
    await expect(
      withSink(wrapped, async (out) => {
        out.text('half');
        await out.flush();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(aborted).toBe(true);
  });
});
