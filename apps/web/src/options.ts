/**
 * The processing options form (resolution, resize method, reference-view strategy, ray pose,
 * 3D Gaussians) and its translation into the library's inference options.
 */
import { REF_VIEW_STRATEGIES, RESIZE_METHODS, type RefViewStrategy, type ResizeMethod } from '@da3js/core';
import { byId, fillSelect } from './dom.js';

/** The options as the form holds them. */
export interface ProcessingOptions {
  readonly processRes: number;
  readonly processResMethod: ResizeMethod;
  readonly refViewStrategy: RefViewStrategy;
  readonly useRayPose: boolean;
  readonly inferGs: boolean;
}

/** The options form. */
export interface OptionsUi {
  read(): ProcessingOptions;
  /** Enables "infer 3DGS" only for models with a Gaussian head (unchecking it otherwise). */
  setGaussiansAvailable(available: boolean): void;
}

/** Fills the selects (from core's lists) and applies defaults; `processRes` overrides 504. */
export function createOptions(defaults: { processRes?: number } = {}): OptionsUi {
  const res = byId<HTMLInputElement>('process-res');
  const method = byId<HTMLSelectElement>('resize-method');
  const ref = byId<HTMLSelectElement>('ref-view');
  const rayPose = byId<HTMLInputElement>('use-ray-pose');
  const gs = byId<HTMLInputElement>('infer-gs');
  fillSelect(method, RESIZE_METHODS, 'upper_bound_resize');
  fillSelect(ref, REF_VIEW_STRATEGIES, 'saddle_balanced');
  if (defaults.processRes) res.value = String(defaults.processRes);
  return {
    read() {
      const r = Number(res.value);
      if (!Number.isInteger(r) || r < 14) throw new RangeError(`process resolution must be an integer ≥ 14, got "${res.value}"`);
      return {
        processRes: r,
        processResMethod: method.value as ResizeMethod,
        refViewStrategy: ref.value as RefViewStrategy,
        useRayPose: rayPose.checked,
        inferGs: gs.checked && !gs.disabled,
      };
    },
    setGaussiansAvailable(available) {
      gs.disabled = !available;
      if (!available) gs.checked = false;
    },
  };
}
