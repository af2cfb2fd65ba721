import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../hub/fs.js';

/** Largest timings file read (bytes); a bigger one is ignored as foreign. */
const MAX_TIMINGS_BYTES = 64 * 1024;
/** Entries kept (most recent first). */
const MAX_ENTRIES = 64;

/** One remembered network run: milliseconds per work unit (views × patch tokens). */
interface TimingEntry {
  readonly msPerUnit: number;
  readonly at: number;
}

/**
 * Remembers how long the network took on this machine, per model + device + precision, so the
 * next run can say how long it will take (`estimatedMs` on the `network` progress event). Kept in
 * `<cacheDir>/timings.json`; best effort — a missing, corrupt or unwritable file only means no
 * estimate. Work is counted with core's `networkWorkUnits` (views × patch tokens).
 */
export class NetworkTimings {
  constructor(
    private readonly cacheDir: string,
    private readonly key: string,
  ) {}

  private get path(): string {
    return join(this.cacheDir, 'timings.json');
  }

  private async readAll(): Promise<Record<string, TimingEntry>> {
    try {
      const text = await readFile(this.path, 'utf8');
      if (text.length > MAX_TIMINGS_BYTES) return {};
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
      const out: Record<string, TimingEntry> = {};
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        const e = v as Partial<TimingEntry> | null;
        if (e && typeof e.msPerUnit === 'number' && Number.isFinite(e.msPerUnit) && e.msPerUnit > 0 && typeof e.at === 'number') {
          Object.defineProperty(out, k, { value: { msPerUnit: e.msPerUnit, at: e.at }, enumerable: true, writable: true, configurable: true });
        }
      }
      return out;
    } catch {
      return {};
    }
  }

  /** Remembered milliseconds per work unit, or undefined when this key was never measured. */
  async msPerUnit(): Promise<number | undefined> {
    const all = await this.readAll();
    return Object.hasOwn(all, this.key) ? all[this.key].msPerUnit : undefined;
  }

  /** Records a measured network run (best effort; never throws). */
  async record(units: number, ms: number): Promise<void> {
    if (!(units > 0) || !(ms > 0)) return;
    try {
      const all = await this.readAll();
      all[this.key] = { msPerUnit: ms / units, at: Date.now() };
      const kept = Object.entries(all)
        .sort((a, b) => b[1].at - a[1].at)
        .slice(0, MAX_ENTRIES);
      await writeFileAtomic(this.path, `${JSON.stringify(Object.fromEntries(kept))}\n`);
    } catch {
      // No estimate next time; inference itself is unaffected.
    }
  }
}
