/**
 * Turns failures into messages a person can act on: missing WebGPU, memory exhaustion (a
 * `RangeError` from an allocation, or onnxruntime's allocation failures), and `Da3Error`s, whose
 * messages already name the offending value.
 */

/** What went wrong, as one line for the status area. */
export function describeError(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const msg = err.message || String(e);
  const code = (err as { code?: unknown }).code;
  if (/webgpu/i.test(msg) && /not available|no navigator\.gpu/i.test(msg)) {
    return `WebGPU is not available in this browser: choose the WASM device (slower), or use a browser with WebGPU enabled. (${msg})`;
  }
  if (code === 'OUT_OF_MEMORY' || isOutOfMemory(err)) {
    return `Out of memory: try a smaller model, fewer images or a lower process resolution, or fp16. (${msg})`;
  }
  if (err.name === 'Da3Error' || typeof code === 'string') return `Error${typeof code === 'string' ? ` (${code})` : ''}: ${msg}`;
  return `Error: ${msg}`;
}

/** True for allocation failures: `RangeError` (array buffer allocation), wasm/ORT out-of-memory messages. */
export function isOutOfMemory(e: Error): boolean {
  if (e instanceof RangeError && /alloc|memory|buffer|length/i.test(e.message)) return true;
  return /out of memory|failed to allocate|bad_alloc|allocation failed|OOM|Aborted\(\)|memory access out of bounds|createBuffer/i.test(e.message);
}
