import { Da3Error } from '../errors.js';
import type { SafetensorsFile } from '../weights/safetensors-reader.js';
import type { TensorRef } from './graph/ops.js';

/**
 * Weights of one network, looked up by their `DepthAnything3Net` state-dict key (e.g.
 * `backbone.pretrained.cls_token`); the checkpoint prefix (`model.`, or `model.da3.` /
 * `model.da3_metric.` for Nested) is added here. Tied tensors that safetensors stored once are
 * resolved through the file's `__metadata__` (`{removed: kept}`).
 */
export interface WeightProvider {
  /** A lazily loaded tensor; throws `MISSING_TENSOR` when the checkpoint lacks it. */
  get(key: string): TensorRef;
  /** True when the checkpoint has `key` (directly or through a tie). */
  has(key: string): boolean;
}

/**
 * A {@link WeightProvider} over one network of a safetensors checkpoint that records which keys
 * were used. Ties come from `ties` (full names, `{removed: stored}`, e.g. a `CheckpointReport`'s,
 * which also knows the DualDPT tie when the metadata lacks it) or, by default, from the file's
 * `__metadata__`.
 */
export class CheckpointWeights implements WeightProvider {
  private readonly used = new Set<string>();
  private readonly ties: Readonly<Record<string, string>>;

  constructor(
    readonly file: SafetensorsFile,
    readonly prefix = 'model.',
    ties?: Readonly<Record<string, string>>,
  ) {
    if (ties) {
      this.ties = ties;
      return;
    }
    const fromMetadata: Record<string, string> = {};
    for (const [removed, kept] of Object.entries(file.metadata)) {
      if (removed.startsWith('model.') && typeof kept === 'string' && file.has(kept)) fromMetadata[removed] = kept;
    }
    this.ties = fromMetadata;
  }

  private resolve(key: string): string | undefined {
    const full = this.prefix + key;
    if (this.file.has(full)) return full;
    const tied = this.ties[full];
    return tied && this.file.has(tied) ? tied : undefined;
  }

  has(key: string): boolean {
    return this.resolve(key) !== undefined;
  }

  get(key: string): TensorRef {
    const stored = this.resolve(key);
    if (!stored) throw new Da3Error('MISSING_TENSOR', `checkpoint: missing tensor "${this.prefix}${key}"`);
    this.used.add(stored);
    const info = this.file.info(stored);
    const file = this.file;
    return { name: this.prefix + key, dims: info.shape, load: () => file.readFloat32(stored) };
  }

  /** Stored tensors under this prefix that no `get` asked for (extra keys in published files). */
  unused(): string[] {
    return this.file.names().filter((n) => n.startsWith(this.prefix) && !this.used.has(n));
  }
}
