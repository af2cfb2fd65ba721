/**
 * Remembered network timings, so a run can say how long its network stage will take
 * (`estimatedMs` on the first `network` progress event), like @da3js/node's `timings.json`.
 */

/** Where measured timings are kept: milliseconds per work unit under a key. */
export interface TimingStore {
  /** Remembered milliseconds per work unit for `key`, or undefined. */
  get(key: string): Promise<number | undefined>;
  /** Remembers a measurement (best effort: must not throw). */
  set(key: string, msPerUnit: number): Promise<void>;
}

/** Work units of a run: core's `networkWorkUnits` (views × patch tokens), kept under this name. */
export { networkWorkUnits as networkUnits } from '@da3js/core';

/** Timings of this page / worker / process (shared by every model, gone on reload). */
const memory = new Map<string, number>();

/** A {@link TimingStore} in memory (this page's lifetime). */
export function memoryTimingStore(): TimingStore {
  return {
    get: async (key) => memory.get(key),
    set: async (key, ms) => {
      if (ms > 0 && Number.isFinite(ms)) memory.set(key, ms);
    },
  };
}

const KEY_ORIGIN = 'https://da3js.cache/timings/';

/**
 * The default {@link TimingStore}: in memory, and in the Cache API (`da3js-timings`) where the
 * context has one — pages and workers alike (localStorage does not exist in workers), so an
 * estimate survives reloads. A missing or corrupt entry only means no estimate.
 */
export function defaultTimingStore(name = 'da3js-timings'): TimingStore {
  const mem = memoryTimingStore();
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) return mem;
  const url = (key: string) => KEY_ORIGIN + encodeURIComponent(key);
  return {
    async get(key) {
      const known = await mem.get(key);
      if (known !== undefined) return known;
      try {
        const res = await (await storage.open(name)).match(url(key));
        if (!res) return undefined;
        const text = await res.text();
        if (text.length > 1024) return undefined;
        const v = (JSON.parse(text) as { msPerUnit?: unknown }).msPerUnit;
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return undefined;
        await mem.set(key, v);
        return v;
      } catch {
        return undefined;
      }
    },
    async set(key, ms) {
      if (!(ms > 0 && Number.isFinite(ms))) return;
      await mem.set(key, ms);
      try {
        await (await storage.open(name)).put(url(key), new Response(JSON.stringify({ msPerUnit: ms, at: Date.now() }), { headers: { 'content-type': 'application/json' } }));
      } catch {
        // No estimate after a reload; inference itself is unaffected.
      }
    },
  };
}
