import { type ByteSource, Da3Error, type ModelCache } from '@da3js/core';
import { type BlobByteSource, blobByteSource } from './io.js';

/** Cache API entries need http(s) URLs; keys are stored under this made-up origin. */
const KEY_ORIGIN = 'https://da3js.cache/';

async function toBlob(data: Uint8Array | ByteSource): Promise<Blob> {
  if (data instanceof Uint8Array) return new Blob([data as Uint8Array<ArrayBuffer>]);
  if ('blob' in data && typeof Blob !== 'undefined' && (data as BlobByteSource).blob instanceof Blob) return (data as BlobByteSource).blob;
  return new Blob([(await data.read(0, data.size)) as Uint8Array<ArrayBuffer>]);
}

/** A {@link ModelCache} that can also forget entries. */
export interface WebModelCache extends ModelCache {
  match(key: string): Promise<BlobByteSource | undefined>;
  delete(key: string): Promise<boolean>;
}

/**
 * Converted graphs in the browser's Cache API (`caches.open(name)`), kept across visits like
 * transformers.js keeps its downloads. Entries are Blobs, which browsers store on disk, so a hit
 * costs no conversion and no second in-memory copy. Needs a secure context (https or localhost).
 *
 * @throws Da3Error `UNSUPPORTED` when this context has no Cache API
 */
export function cacheApiModelCache(name = 'da3js-graphs'): WebModelCache {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) throw new Da3Error('UNSUPPORTED', 'cacheApiModelCache: this context has no Cache API (it needs a secure context: https or localhost)');
  const url = (key: string) => KEY_ORIGIN + encodeURIComponent(key);
  return {
    async match(key) {
      const res = await (await storage.open(name)).match(url(key));
      return res ? blobByteSource(await res.blob()) : undefined;
    },
    async put(key, data) {
      const blob = await toBlob(data);
      await (await storage.open(name)).put(url(key), new Response(blob, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) } }));
    },
    async delete(key) {
      return (await storage.open(name)).delete(url(key));
    },
  };
}

/** A {@link ModelCache} in memory (one page's lifetime; tests and pages that must not persist). */
export function memoryModelCache(): WebModelCache & { readonly keys: () => string[] } {
  const entries = new Map<string, Blob>();
  return {
    async match(key) {
      const blob = entries.get(key);
      return blob ? blobByteSource(blob) : undefined;
    },
    async put(key, data) {
      entries.set(key, await toBlob(data));
    },
    async delete(key) {
      return entries.delete(key);
    },
    keys: () => [...entries.keys()],
  };
}

/** The default cache: the Cache API where the context has one, else none. */
export function defaultModelCache(): WebModelCache | undefined {
  try {
    return cacheApiModelCache();
  } catch {
    return undefined;
  }
}
