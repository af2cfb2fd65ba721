/**
 * `window.da3App`: a small, documented automation hook (tests, scripts, the console). See
 * README.md ("Automation hook"). Everything else in the app is private.
 */
import { type Prediction, type PredictionInit, createPrediction } from '@da3js/core';
import type { ScreenPoint } from './viewer/viewer.js';
import type { WorkerModelInfo } from './worker/protocol.js';

/** A prediction as plain data: {@link PredictionInit} whose arrays may be plain number arrays. */
export type PredictionLike = { [K in keyof PredictionInit]: PredictionInit[K] | number[] };

/** The hook's shape. */
export interface Da3AppHook {
  /** Resolves once the page is wired up (the model is loaded on the first run, not here). */
  readonly ready: Promise<void>;
  /** The status line's text. */
  status(): string;
  /** The last prediction shown, or null. */
  readonly prediction: Prediction | null;
  /** The model loaded in the inference worker (kind and config), or null. */
  readonly model: WorkerModelInfo | null;
  /** True while a run is in flight. */
  readonly busy: boolean;
  /** Times Cancel had to terminate the inference worker (a session run cannot be aborted). */
  readonly workerTerminations: number;
  /** Execution providers of the last session made ready (`['wasm']`, `['webgpu', 'wasm']`). */
  readonly providers: readonly string[];
  /** The measure tool: the last completed distance (world units; metres when the prediction is metric). */
  readonly measure: { readonly lastDistance: number | null };
  /**
   * The 3D viewer: points drawn, the page position (CSS px) of a world point (OpenCV axes), and
   * splat mode (the "Splats" checkbox: shown, the renderer — `webgpu`, or `spark` on WebGL2 where
   * WebGPU is missing, `null` until known —, frames drawn, last frame's render time in ms).
   */
  readonly viewer: {
    readonly pointsShown: number;
    project(x: number, y: number, z: number): ScreenPoint;
    readonly splats: { readonly enabled: boolean; readonly backend: 'webgpu' | 'spark' | null; readonly frames: number; readonly lastFrameMs: number };
  };
  /** Wall-clock milliseconds of the last run's steps. */
  readonly timings: { readonly load?: number; readonly decode?: number; readonly inference?: number };
  /** Runs the pipeline on the current input (what the Reconstruct button does). */
  run(): Promise<void>;
  /** What the Cancel button does; resolves once the run has stopped. */
  cancel(): Promise<void>;
  /** Shows a prediction (a `Prediction`, or plain data for `createPrediction`) without running a model. */
  showPrediction(p: Prediction | PredictionLike): Prediction;
}

const FLOAT_FIELDS = ['depth', 'conf', 'extrinsics', 'intrinsics'] as const;
const BYTE_FIELDS = ['processedImages', 'sky'] as const;

/** A validated {@link Prediction} from plain data (arrays become the documented typed arrays). */
export function toPrediction(p: Prediction | PredictionLike): Prediction {
  if (Object.isFrozen(p) && p.depth instanceof Float32Array) return p as Prediction;
  const init: Record<string, unknown> = { ...p };
  for (const k of FLOAT_FIELDS) if (Array.isArray(init[k])) init[k] = Float32Array.from(init[k] as number[]);
  for (const k of BYTE_FIELDS) if (Array.isArray(init[k])) init[k] = Uint8Array.from(init[k] as number[]);
  return createPrediction(init as unknown as PredictionInit);
}

declare global {
  interface Window {
    da3App: Da3AppHook;
  }
}
