import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isDa3Error, memoryByteSource } from '@da3js/core';
import { DirectoryModelCache, fileByteSource, fileSink } from '../src/hub/index.js';

const dir = mkdtempSync(join(tmpdir(), 'da3-hubfs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('fileSink', () => {
  it('writes a temp file and renames it on close (nothing at the path before)', async () => {
    const path = join(dir, 'sub', 'out.bin');
    const sink = fileSink(path);
    void sink.write(bytes(10)); // writes are serialised even when not awaited
    await sink.write(bytes(5, 9));
    expect(existsSync(path)).toBe(false);
    await sink.close?.();
    expect(Buffer.from(readFileSync(path)).equals(Buffer.concat([bytes(10), bytes(5, 9)]))).toBe(true);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['out.bin']);
    await expect(async () => sink.write(bytes(1))).rejects.toThrow(/after close/);
  });

  it('abort removes the temp file and leaves an existing file alone', async () => {
    const path = join(dir, 'keep.bin');
    const first = fileSink(path);
    await first.write(bytes(3));
    await first.close?.();
    const sink = fileSink(path);
    await sink.write(bytes(100));
    await sink.abort?.(new Error('x'));
    expect(readdirSync(dir).filter((f) => f.startsWith('keep.bin'))).toEqual(['keep.bin']);
    expect(readFileSync(path).length).toBe(3);
  });
});

describe('fileByteSource', () => {
  it('positional reads, range checks, close', async () => {
    const path = join(dir, 'src.bin');
    const sink = fileSink(path);
    await sink.write(bytes(1000));
    await sink.close?.();
    const src = fileByteSource(path);
    expect(src.size).toBe(1000);
    const [a, b] = await Promise.all([src.read(10, 5), src.read(990, 10)]);
    expect([...a]).toEqual([...bytes(1000).subarray(10, 15)]);
    expect([...b]).toEqual([...bytes(1000).subarray(990)]);
    expect((await src.read(0, 0)).length).toBe(0);
    await expect(src.read(995, 10)).rejects.toSatisfy((e) => isDa3Error(e, 'OUT_OF_RANGE'));
    src.close();
    src.close();
    await expect(src.read(0, 1)).rejects.toSatisfy((e) => isDa3Error(e, 'IO'));
    expect(() => fileByteSource(join(dir, 'missing'))).toThrow(/cannot open/);
  });
});

describe('DirectoryModelCache', () => {
  it('match/put round trip for bytes and ByteSources; keys map to safe file names', async () => {
    const cache = new DirectoryModelCache(join(dir, 'cache'));
    const key = 'https://huggingface.co/owner/name/resolve/main/onnx/model.onnx?x=1';
    expect(await cache.match(key)).toBeUndefined();
    await cache.put(key, bytes(64));
    await cache.put('other', memoryByteSource(bytes(3 * 1024 * 1024 + 7, 5)));
    const hit = await cache.match(key);
    expect(hit?.size).toBe(64);
    expect([...(await hit!.read(0, 64))]).toEqual([...bytes(64)]);
    hit?.close();
    const other = await cache.match('other');
    expect(Buffer.from(await other!.read(0, other!.size)).equals(Buffer.from(bytes(3 * 1024 * 1024 + 7, 5)))).toBe(true);
    other?.close();
    expect(cache.pathOf(key)).toMatch(/[0-9a-f]{32}-model\.onnx$/);
    expect(await cache.delete(key)).toBe(true);
    expect(await cache.match(key)).toBeUndefined();
    expect(readdirSync(join(dir, 'cache'))).toHaveLength(1);
  });
});
