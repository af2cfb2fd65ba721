import type { ModelConfig } from '../config/schema.js';
import type { Da3Runner } from '../io.js';

/**
 * What a DA3 model is to the pipeline: which kind of network(s) it is and how to run them.
 * - `anyview`: SMALL/BASE/LARGE/GIANT (depth, confidence, rays, camera head).
 * - `mono`: MONO-LARGE (relative depth + sky).
 * - `metric`: METRIC-LARGE (focal-normalised depth + sky; metres need intrinsics).
 * - `nested`: NESTED (an any-view graph and a metric graph, aligned to metres).
 */
export type ModelKind = 'anyview' | 'mono' | 'metric' | 'nested';

/** Graph roles a runtime provides runners for. */
export type GraphRole = 'net' | 'netPosed' | 'anyview' | 'anyviewPosed' | 'metric';

/**
 * A loaded model as the runtime (node, web, GPU worker) hands it to {@link runInference}:
 * the config, its kind, and a runner per graph. Posed runners are created on first use (a
 * separate graph, since an ONNX input cannot be optional).
 */
export interface Da3Model {
  readonly config: ModelConfig;
  readonly kind: ModelKind;
  /**
   * Returns the runner of a graph, building/loading it when first asked. `gaussians` asks for the
   * graph with the GS head's `gs_raw` output (GIANT / NESTED any-view).
   */
  runner(role: GraphRole, options?: { readonly gaussians?: boolean }): Promise<Da3Runner>;
}
