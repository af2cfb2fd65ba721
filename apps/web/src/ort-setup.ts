/**
 * Points onnxruntime-web at the runtime files this site ships (`ort/`, copied there by
 * vite.config.ts), so the page works offline and never asks a CDN. Must run before the first
 * session is created.
 */
import * as ort from 'onnxruntime-web';

/** Sets `ort.env.wasm.wasmPaths` to `<page folder>/ort/`. */
export function configureOrt(base: string = document.baseURI): void {
  ort.env.wasm.wasmPaths = new URL('./ort/', base).href;
}
