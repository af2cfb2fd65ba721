/**
 * URL query parameters that override the app's defaults, so a link (or a test) can drive it:
 * `?endpoint=<hub base url>&model=<owner/name or URL>&device=auto|webgpu|wasm&threads=<n>&dtype=auto|fp32|fp16&processRes=<px>&cache=0|1`.
 */

/** Devices the page can ask onnxruntime-web for. */
export type AppDevice = 'auto' | 'webgpu' | 'wasm';
/** Weight precision of the converted graph. */
export type AppDtype = 'auto' | 'fp32' | 'fp16';

/** The settings a URL can override. Absent keys keep the app's defaults. */
export interface UrlParams {
  readonly endpoint?: string;
  readonly model?: string;
  readonly device?: AppDevice;
  readonly threads?: number;
  readonly dtype?: AppDtype;
  readonly processRes?: number;
  /** Keep converted graphs in the browser's Cache API (default true; `cache=0` turns it off). */
  readonly cache?: boolean;
}

const DEVICES: readonly AppDevice[] = ['auto', 'webgpu', 'wasm'];
const DTYPES: readonly AppDtype[] = ['auto', 'fp32', 'fp16'];

function positiveInt(v: string | null): number | undefined {
  if (v === null || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 ? n : undefined;
}

/**
 * Reads the overrides from a query string (`location.search`). Unknown or malformed values are
 * ignored (the default stays), so a typo never breaks the page.
 */
export function parseUrlParams(search: string): UrlParams {
  const q = new URLSearchParams(search);
  const device = q.get('device') as AppDevice | null;
  const dtype = q.get('dtype') as AppDtype | null;
  return {
    endpoint: q.get('endpoint')?.trim() || undefined,
    model: q.get('model')?.trim() || undefined,
    device: device && DEVICES.includes(device) ? device : undefined,
    threads: positiveInt(q.get('threads')),
    dtype: dtype && DTYPES.includes(dtype) ? dtype : undefined,
    processRes: positiveInt(q.get('processRes')),
    cache: q.has('cache') ? !/^(0|false|no|off)$/i.test(q.get('cache') ?? '') : undefined,
  };
}
