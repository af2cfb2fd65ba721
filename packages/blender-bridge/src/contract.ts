/**
 * The wire contract the Blender add-on speaks, generated from `@da3js/core/protocol` (the zod
 * schemas `da3 backend`, apps/gpu-worker and the edge API validate with). The build writes it
 * into the add-on as `remote/protocol.json`; the add-on reads its states, stages, enums and
 * limits from there, so the two cannot drift. Cameras in the protocol are OpenCV
 * (x right, y down, z forward), extrinsics world→camera 3×4, intrinsics in pixels.
 */
import { JOB_PROTOCOL_VERSION, JOB_STAGES, JOB_STATES, JobExportOptionsSchema, JobInferenceOptionsSchema, MAX_JOB_INPUTS, isTerminalJobState } from '@da3js/core/protocol';
import { DEFAULT_PROCESS_RES, MAX_PROCESS_RES, PREPROCESS_SIZE_MULTIPLE, RESIZE_METHODS } from '@da3js/core';
import { exportFormats } from '@da3js/exporters';

/** What `remote/protocol.json` holds. */
export interface AddonContract {
  readonly protocolVersion: number;
  readonly jobStates: readonly string[];
  readonly terminalStates: readonly string[];
  readonly jobStages: readonly string[];
  readonly resizeMethods: readonly string[];
  readonly refViewStrategies: readonly string[];
  /** `options.processRes` bounds and default (pixels of the bounded side). */
  readonly processRes: { readonly min: number; readonly max: number; readonly default: number };
  readonly maxInputs: number;
  /** Keys allowed in `options` and `exportOptions`. */
  readonly optionKeys: readonly string[];
  readonly exportOptionKeys: readonly string[];
  /** Export format names the services know. */
  readonly formats: readonly string[];
  /** Routes relative to a service's base URL (`uploads` is the edge API's). */
  readonly endpoints: { readonly health: string; readonly ready: string; readonly jobs: string; readonly uploads: string };
}

/** Builds the add-on's contract from the protocol's schemas and constants. */
export function addonContract(): AddonContract {
  const strategy = JobInferenceOptionsSchema.shape.refViewStrategy.unwrap();
  return {
    protocolVersion: JOB_PROTOCOL_VERSION,
    jobStates: [...JOB_STATES],
    terminalStates: JOB_STATES.filter((s) => isTerminalJobState(s)),
    jobStages: [...JOB_STAGES],
    resizeMethods: [...RESIZE_METHODS],
    refViewStrategies: [...strategy.options],
    processRes: { min: PREPROCESS_SIZE_MULTIPLE, max: MAX_PROCESS_RES, default: DEFAULT_PROCESS_RES },
    maxInputs: MAX_JOB_INPUTS,
    optionKeys: Object.keys(JobInferenceOptionsSchema.shape),
    exportOptionKeys: Object.keys(JobExportOptionsSchema.shape),
    formats: exportFormats(),
    endpoints: { health: '/healthz', ready: '/readyz', jobs: `/v${JOB_PROTOCOL_VERSION}/jobs`, uploads: `/v${JOB_PROTOCOL_VERSION}/uploads` },
  };
}
