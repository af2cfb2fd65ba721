/**
 * The model picker: the official variants (core's `VARIANTS`), a custom hub id or URL, or local
 * files (config.json + model.safetensors), plus the runtime settings under "Advanced" (hub
 * endpoint, device, precision, threads, cache). It says what to load; the inference worker loads
 * it (see engine.ts).
 */
import { type ModelConfig, VARIANTS, VARIANT_IDS } from '@da3js/core';
import { byId, fillSelect } from './dom.js';
import type { UrlParams } from './params.js';
import type { WorkerModelChoice } from './worker/protocol.js';

/** Value of the picker's "custom hub id / URL" entry. */
export const CUSTOM = 'custom';
/** Value of the picker's "local files" entry. */
export const LOCAL = 'local';

/** The default variant (small, Apache-2.0). */
export const DEFAULT_MODEL = 'depth-anything/DA3-SMALL';

/** What the picker says to load. */
export type ModelChoice = WorkerModelChoice;

/** True when the config (or the Nested model's any-view part) has a 3D-Gaussian head. */
export function hasGaussianHead(config: ModelConfig): boolean {
  return config.kind === 'NestedDepthAnything3Net' ? config.anyview.gsHead !== null : config.gsHead !== null;
}

/** The model section. */
export interface ModelPicker {
  /** The current choice. @throws Error when it is incomplete (no custom id, missing local files). */
  choice(): ModelChoice;
}

/**
 * Where onnxruntime-web's runtime files are served: `ort/` beside the page (vite.config.ts copies
 * them there), so the app needs no CDN. Absolute, so the worker resolves it the same way.
 */
export function ortWasmPaths(base: string = document.baseURI): string {
  return new URL('./ort/', base).href;
}

/** Builds the picker; URL parameters override the defaults. */
export function createModelPicker(params: UrlParams): ModelPicker {
  const select = byId<HTMLSelectElement>('model-select');
  const custom = byId<HTMLInputElement>('custom-model');
  const endpoint = byId<HTMLInputElement>('endpoint');
  const device = byId<HTMLSelectElement>('device');
  const dtype = byId<HTMLSelectElement>('dtype');
  const threads = byId<HTMLInputElement>('threads');
  const localConfig = byId<HTMLInputElement>('local-config');
  const localWeights = byId<HTMLInputElement>('local-weights');
  const cache = byId<HTMLInputElement>('use-cache');

  const entries: [string, string][] = VARIANT_IDS.map((id) => {
    const v = VARIANTS[id];
    const size = `${Math.round(v.parameters / 1e6)}M params`;
    return [v.hfRepo, `${id} — ${size}, ${v.license}${v.deprecated ? ', superseded' : ''}`];
  });
  fillSelect(select, [...entries, [CUSTOM, 'Custom hub id or URL…'], [LOCAL, 'Local files…']], DEFAULT_MODEL);
  if (params.model) {
    if (entries.some(([repo]) => repo === params.model)) select.value = params.model;
    else {
      select.value = CUSTOM;
      custom.value = params.model;
    }
  }
  if (params.endpoint) endpoint.value = params.endpoint;
  if (params.device) device.value = params.device;
  if (params.dtype) dtype.value = params.dtype;
  if (params.cache !== undefined) cache.checked = params.cache;
  threads.value = String(params.threads ?? Math.min(8, navigator.hardwareConcurrency || 4));
  if (!crossOriginIsolated && !params.threads) threads.value = '1';

  const sync = () => {
    byId('custom-model-row').hidden = select.value !== CUSTOM;
    byId('local-model-row').hidden = select.value !== LOCAL;
  };
  select.addEventListener('change', sync);
  sync();

  return {
    choice(): ModelChoice {
      const common = { device: device.value as ModelChoice['device'], dtype: dtype.value as ModelChoice['dtype'], threads: Number(threads.value) || undefined, cache: cache.checked };
      if (select.value === LOCAL) {
        const config = localConfig.files?.[0];
        const weights = localWeights.files?.[0];
        if (!config || !weights) throw new Error('choose both config.json and model.safetensors for a local model');
        return { source: 'local', config, weights, ...common };
      }
      const id = select.value === CUSTOM ? custom.value.trim() : select.value;
      if (!id) throw new Error('enter a hub id (owner/name) or a URL for the custom model');
      return { source: 'hub', id, endpoint: endpoint.value.trim(), ...common };
    },
  };
}
