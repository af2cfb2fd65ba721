/**
 * @da3js/web — onnxruntime-web binding (WebGPU, WASM fallback) and browser image input.
 *
 * This package is a skeleton: its API lands with its own issue. It already builds, type-checks
 * and resolves through its exports map (ESM and CJS), and depends on the packages below it
 * (see docs/architecture.md).
 */
import { Da3Error } from '@da3js/core';

/** The npm name of this package. */
export const PACKAGE_NAME = '@da3js/web' as const;

/**
 * Throws the typed error every not-yet-implemented entry point of this package raises.
 * @throws {Da3Error} always, with code `BAD_CONFIG`
 */
export function notImplemented(feature: string): never {
  throw new Da3Error('BAD_CONFIG', `${PACKAGE_NAME}: ${feature} is not available in this version`);
}
