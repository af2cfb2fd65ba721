/**
 * Messages between the page and the inference worker (`da3-worker.ts`). Everything here is
 * structured-clone data: Files, typed arrays, plain objects.
 */
import type { ImageU8, InferenceProgress, ModelConfig, ModelKind, PredictionInit } from '@da3js/core';
import type { ExportOptions, GsVideoProgress } from '@da3js/exporters';
import type { DecodeProgress, WebProgressEvent } from '@da3js/web';
import type { AppDevice, AppDtype } from '../params.js';

/** What to load: a hub id / URL, or local files (as in the model picker). */
export type WorkerModelChoice =
  | { readonly source: 'hub'; readonly id: string; readonly endpoint: string; readonly device: AppDevice; readonly dtype: AppDtype; readonly threads?: number; readonly cache: boolean }
  | { readonly source: 'local'; readonly config: File; readonly weights: File; readonly device: AppDevice; readonly dtype: AppDtype; readonly threads?: number; readonly cache: boolean };

/** Inference options the worker passes to `model.inference`. */
export interface WorkerInferenceOptions {
  readonly processRes: number;
  readonly processResMethod: string;
  readonly refViewStrategy: string;
  readonly useRayPose: boolean;
  readonly inferGs: boolean;
}

/** Page → worker. */
export type ToWorker =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly choice: WorkerModelChoice;
      /** onnxruntime-web's runtime files (absolute URL). */
      readonly wasmPaths: string;
      /** Image files (decoded in the worker) or frames already decoded (video, sampled in the page). */
      readonly inputs: readonly (File | ImageU8)[];
      readonly options: WorkerInferenceOptions;
    }
  | { readonly type: 'export'; readonly id: number; readonly formats: string; readonly options: Omit<ExportOptions, 'signal'> }
  | { readonly type: 'cancel' };

/** The loaded model, as the page needs to know it. */
export interface WorkerModelInfo {
  readonly kind: ModelKind;
  readonly config: ModelConfig;
}

/** Worker → page. */
export type FromWorker =
  | { readonly type: 'load-progress'; readonly id: number; readonly event: WebProgressEvent }
  | { readonly type: 'infer-progress'; readonly id: number; readonly event: InferenceProgress | DecodeProgress }
  | { readonly type: 'loaded'; readonly id: number; readonly model: WorkerModelInfo; readonly ms: number }
  | { readonly type: 'result'; readonly id: number; readonly prediction: PredictionInit; readonly timings: { readonly load: number; readonly decode: number; readonly inference: number } }
  /** A gs_video export's frame progress (rendered, then encoded), one message per frame. */
  | { readonly type: 'export-progress'; readonly id: number; readonly event: GsVideoProgress }
  | { readonly type: 'exported'; readonly id: number; readonly files: File[] }
  | { readonly type: 'error'; readonly id: number; readonly error: { readonly name: string; readonly message: string; readonly code?: string } };
