/**
 * The model picker: the official variants (core's `VARIANTS`), a custom hub id or URL, or local
 * files (config.json + model.safetensors), plus hub endpoint, device, precision and threads.
 * Loads the chosen model with @da3js/web, reusing it while the choice is unchanged.
 */
import { type ModelConfig, VARIANTS, VARIANT_IDS } from '@da3js/core';
import { DepthAnything3, type WebProgressEvent } from '@da3js/web';
import { byId, fillSelect } from './dom.js';
import type { AppDevice, AppDtype, UrlParams } from './params.js';

/** Value of the picker's "custom hub id / URL" entry. */
export const CUSTOM = 'custom';
/** Value of the picker's "local files" entry. */
export const LOCAL = 'local';

/** The default variant (small, Apache-2.0). */
export const DEFAULT_MODEL = 'depth-anything/DA3-SMALL';

/** What the picker says to load. */
export type ModelChoice =
  | { readonly source: 'hub'; readonly id: string; readonly endpoint: string; readonly device: AppDevice; readonly dtype: AppDtype; readonly threads?: number; readonly cache: boolean }
  | { readonly source: 'local'; readonly config: File; readonly weights: File; readonly device: AppDevice; readonly dtype: AppDtype; readonly threads?: number; readonly cache: boolean };

/** True when the config (or the Nested model's any-view part) has a 3D-Gaussian head. */
export function hasGaussianHead(config: ModelConfig): boolean {
  return config.kind === 'NestedDepthAnything3Net' ? config.anyview.gsHead !== null : config.gsHead !== null;
}

/** The model section. */
export interface ModelPicker {
  choice(): ModelChoice;
  /** The loaded model for the current choice (loading it, and disposing of the previous one, if the choice changed). */
  load(progress: (e: WebProgressEvent) => void): Promise<DepthAnything3>;
  current(): DepthAnything3 | null;
}

/**
 * Where onnxruntime-web's runtime files are served: `ort/` beside the page (vite.config.ts copies
 * them there), so the app needs no CDN.
 */
export function ortWasmPaths(base: string = document.baseURI): string {
  return new URL('./ort/', base).href;
}

/** Builds the picker; URL parameters override the defaults. */
export function createModelPicker(params: UrlParams, onLoaded: (model: DepthAnything3) => void): ModelPicker {
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
    const params = `${Math.round(v.parameters / 1e6)}M`;
    return [v.hfRepo, `${id} (${params}, ${v.license}${v.deprecated ? ', superseded' : ''})`];
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

  let model: DepthAnything3 | null = null;
  let loadedKey = '';

  const choice = (): ModelChoice => {
    const common = { device: device.value as AppDevice, dtype: dtype.value as AppDtype, threads: Number(threads.value) || undefined, cache: cache.checked };
    if (select.value === LOCAL) {
      const config = localConfig.files?.[0];
      const weights = localWeights.files?.[0];
      if (!config || !weights) throw new Error('choose both config.json and model.safetensors for a local model');
      return { source: 'local', config, weights, ...common };
    }
    const id = select.value === CUSTOM ? custom.value.trim() : select.value;
    if (!id) throw new Error('enter a hub id (owner/name) or a URL for the custom model');
    return { source: 'hub', id, endpoint: endpoint.value.trim(), ...common };
  };

  const keyOf = (c: ModelChoice) =>
    JSON.stringify(c.source === 'hub' ? c : { ...c, config: [c.config.name, c.config.size, c.config.lastModified], weights: [c.weights.name, c.weights.size, c.weights.lastModified] });

  return {
    choice,
    current: () => model,
    async load(progress) {
      const c = choice();
      const key = keyOf(c);
      if (model && key === loadedKey) return model;
      if (model) await model.dispose();
      model = null;
      const options = { device: c.device, dtype: c.dtype, threads: c.threads, cache: c.cache ? undefined : (false as const), wasmPaths: ortWasmPaths(), progress };
      if (c.source === 'hub') {
        model = await DepthAnything3.fromPretrained(c.id, { ...options, endpoint: c.endpoint || undefined });
      } else {
        model = await DepthAnything3.fromBlobs({ config: c.config, weights: c.weights }, options);
      }
      loadedKey = key;
      onLoaded(model);
      return model;
    },
  };
}
