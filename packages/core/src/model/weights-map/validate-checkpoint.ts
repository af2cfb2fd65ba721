import type { ModelConfig, NetConfig } from '../../config/schema.js';
import { Da3Error } from '../../errors.js';
import type { SafetensorsDtype } from '../../weights/dtype.js';
import type { SafetensorsFile } from '../../weights/safetensors-reader.js';
import { CheckpointWeights } from '../checkpoint.js';
import { type CheckpointNetwork, checkpointNetworks, DEFAULT_CHECKPOINT_PREFIX, expectedTensors, tiedTensors } from './expected-tensors.js';

/** A tensor whose stored shape differs from what the configuration needs. */
export interface ShapeMismatch {
  readonly name: string;
  readonly expected: readonly number[];
  readonly actual: readonly number[];
}

/** A tensor stored in a dtype the weight reader cannot widen to float32. */
export interface DtypeMismatch {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
}

/** Where the resolution of one tied key came from. */
export type TieSource = 'metadata' | 'known';

/** The outcome of {@link validateCheckpoint}: nothing is thrown, everything is listed. */
export interface CheckpointReport {
  /** Required tensors the file lacks (full names, sorted). Non-empty means the file cannot be used. */
  readonly missing: string[];
  /** Tensors in the file that `config` does not use (full names, sorted). Warnings only. */
  readonly unexpected: string[];
  readonly shapeMismatches: ShapeMismatch[];
  /** Required tensors stored as an integer/bool dtype (only F32, F16, BF16 and F64 are read). */
  readonly dtypeMismatches: DtypeMismatch[];
  /**
   * Tied keys the loader must redirect, `{removed: stored}` (full names): the DualDPT aux
   * LayerNorm duplicates that safetensors stored once. Empty for keys the file stores itself.
   */
  readonly ties: Record<string, string>;
  /** For each key of {@link ties}: taken from the file's `__metadata__`, or the known DualDPT tie. */
  readonly tieSources: Record<string, TieSource>;
  /** Human-readable warnings (unexpected keys, missing tie metadata). */
  readonly warnings: string[];
  /** Number of required (stored) tensors and how many of them the file has. */
  readonly expectedCount: number;
  readonly foundCount: number;
  /** The networks of the checkpoint (Nested: `anyview` under `model.da3.`, `metric` under `model.da3_metric.`). */
  readonly networks: CheckpointNetwork[];
  /** True when nothing is missing and no shape or dtype is wrong (warnings allowed). */
  readonly ok: boolean;
}

/** Options of {@link validateCheckpoint} and {@link assertValidCheckpoint}. */
export interface ValidateCheckpointOptions {
  /** Key prefix of the checkpoint (default `model.`, as the official files). */
  prefix?: string;
  /** How many names an error message lists before `… and N more` (default 20). */
  maxListed?: number;
  /**
   * Refuse tensors the configuration does not use (`UNEXPECTED_TENSOR`) instead of reporting them
   * as warnings, like PyTorch's `load_state_dict(strict=True)` (default false, as the reference).
   */
  strict?: boolean;
}

const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(['F32', 'F16', 'BF16', 'F64']);
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Checks a safetensors checkpoint against a configuration using its header only (no tensor data
 * is read): every tensor of {@link expectedTensors} must be present with the expected shape and a
 * float dtype; keys the configuration does not use are reported as `unexpected` (published files
 * may carry a few, e.g. a DINOv2 `mask_token`; the reference loads with `strict=False`).
 *
 * Tied keys: the DualDPT aux LayerNorm is one module shared by all levels, so a tie group
 * `head.scratch.output_conv2_aux.{0..L-1}.2.{weight,bias}` is satisfied by any stored member.
 * Members not stored are resolved from the file's `__metadata__` (`{removed: kept}`, as
 * `safetensors.torch.save_model` writes it) or, when that is absent, to a stored member of the
 * group (the known tie). A file that stores every copy is accepted as well.
 */
export function validateCheckpoint(file: SafetensorsFile, config: NetConfig | ModelConfig, options: ValidateCheckpointOptions = {}): CheckpointReport {
  const prefix = options.prefix ?? DEFAULT_CHECKPOINT_PREFIX;
  const expected = expectedTensors(config, prefix);
  const tied = tiedTensors(config, prefix);
  const groups = new Map<string, string[]>();
  for (const [removed, kept] of Object.entries(tied)) {
    const group = groups.get(kept) ?? [kept];
    group.push(removed);
    groups.set(kept, group);
  }
  const shapeOf = new Map(expected.map((t) => [t.name, t.shape]));
  for (const [removed, kept] of Object.entries(tied)) shapeOf.set(removed, shapeOf.get(kept) ?? []);

  const missing: string[] = [];
  const shapeMismatches: ShapeMismatch[] = [];
  const dtypeMismatches: DtypeMismatch[] = [];
  const ties: Record<string, string> = {};
  const tieSources: Record<string, TieSource> = {};
  const metadata = file.metadata;
  let foundCount = 0;

  const check = (name: string) => {
    const info = file.info(name);
    const want = shapeOf.get(name) ?? [];
    if (!sameShape(info.shape, want)) shapeMismatches.push({ name, expected: want, actual: info.shape });
    if (!FLOAT_DTYPES.has(info.dtype)) dtypeMismatches.push({ name, dtype: info.dtype });
  };

  for (const t of expected) {
    const group = groups.get(t.name);
    if (!group) {
      if (file.has(t.name)) {
        foundCount++;
        check(t.name);
      } else missing.push(t.name);
      continue;
    }
    const stored = group.filter((n) => file.has(n));
    if (stored.length === 0) {
      missing.push(t.name);
      continue;
    }
    foundCount++;
    for (const n of stored) check(n);
    for (const n of group) {
      if (file.has(n)) continue;
      const fromMeta = metadata[n];
      if (typeof fromMeta === 'string' && stored.includes(fromMeta)) {
        ties[n] = fromMeta;
        tieSources[n] = 'metadata';
      } else {
        ties[n] = stored[0];
        tieSources[n] = 'known';
      }
    }
  }

  const known = new Set([...shapeOf.keys()]);
  const unexpected = file
    .names()
    .filter((n) => !known.has(n))
    .sort();
  const warnings: string[] = [];
  if (unexpected.length) warnings.push(`checkpoint: ${unexpected.length} tensor(s) not used by this model, ignored: ${listNames(unexpected, 10)}`);
  const fallback = Object.keys(tieSources).filter((n) => tieSources[n] === 'known');
  if (fallback.length) {
    warnings.push(`checkpoint: no __metadata__ tie for ${fallback.length} shared key(s); resolved to the known DualDPT tie (${listNames(fallback, 3)})`);
  }
  return {
    missing,
    unexpected,
    shapeMismatches,
    dtypeMismatches,
    ties,
    tieSources,
    warnings,
    expectedCount: expected.length,
    foundCount,
    networks: checkpointNetworks(config, prefix),
    ok: missing.length === 0 && shapeMismatches.length === 0 && dtypeMismatches.length === 0,
  };
}

function listNames(names: readonly string[], max: number): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} … and ${names.length - max} more` : shown;
}

/** The first two dot-separated segments of the file's keys, most frequent first (for hints). */
function keyPrefixes(file: SafetensorsFile): string[] {
  const counts = new Map<string, number>();
  for (const n of file.names()) {
    const p = `${n.split('.').slice(0, 2).join('.')}.`;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([p]) => p);
}

/**
 * {@link validateCheckpoint}, throwing on the first class of problem:
 * - `Da3Error('MISSING_TENSOR')` with the count and the first `maxListed` missing names (and a
 *   hint when nothing matched, e.g. a Nested file validated as a single network);
 * - `Da3Error('BAD_SHAPE')` listing `name: [stored] ≠ [expected]`;
 * - `Da3Error('UNSUPPORTED_DTYPE')` for integer/bool tensors;
 * - with `strict`, `Da3Error('UNEXPECTED_TENSOR')` for keys the model does not use.
 * Otherwise unknown extra keys never throw; they are returned in `report.unexpected` / `report.warnings`.
 *
 * @returns the report (check `report.warnings`)
 */
export function assertValidCheckpoint(file: SafetensorsFile, config: NetConfig | ModelConfig, options: ValidateCheckpointOptions = {}): CheckpointReport {
  const report = validateCheckpoint(file, config, options);
  const max = options.maxListed ?? 20;
  const prefix = options.prefix ?? DEFAULT_CHECKPOINT_PREFIX;
  if (report.missing.length) {
    let hint = '';
    if (report.foundCount === 0) {
      const seen = keyPrefixes(file).slice(0, 3);
      hint = seen.length
        ? `; none of the expected keys (prefix "${prefix}") are in the file, whose keys start with ${seen.map((p) => `"${p}"`).join(', ')} — wrong model config or prefix?`
        : '; the file holds no tensors';
    }
    throw new Da3Error(
      'MISSING_TENSOR',
      `checkpoint: ${report.missing.length} of ${report.expectedCount} required tensors missing: ${listNames(report.missing, max)}${hint}`,
    );
  }
  if (report.shapeMismatches.length) {
    const items = report.shapeMismatches.map((m) => `${m.name}: [${m.actual.join(', ')}] ≠ expected [${m.expected.join(', ')}]`);
    throw new Da3Error('BAD_SHAPE', `checkpoint: ${items.length} tensor(s) have the wrong shape: ${listNames(items, max)}`);
  }
  if (report.dtypeMismatches.length) {
    const items = report.dtypeMismatches.map((m) => `${m.name} (${m.dtype})`);
    throw new Da3Error('UNSUPPORTED_DTYPE', `checkpoint: ${items.length} tensor(s) are not F32/F16/BF16/F64: ${listNames(items, max)}`);
  }
  if (options.strict && report.unexpected.length) {
    throw new Da3Error(
      'UNEXPECTED_TENSOR',
      `checkpoint: ${report.unexpected.length} tensor(s) not used by this model (strict): ${listNames(report.unexpected, max)} — check that the config matches the weights, or load without strict to ignore them`,
    );
  }
  return report;
}

/** One network of an opened checkpoint, ready for the graph builder. */
export interface OpenedNetwork extends CheckpointNetwork {
  readonly weights: CheckpointWeights;
}

/** The result of {@link openCheckpoint}. */
export interface OpenedCheckpoint {
  readonly report: CheckpointReport;
  /** One entry per network (Nested: `anyview`, then `metric`). */
  readonly networks: OpenedNetwork[];
}

/**
 * Validates a checkpoint ({@link assertValidCheckpoint}, throwing on missing/mis-shaped tensors)
 * and returns one weight provider per network: a plain model gives `[net]`, a Nested model its
 * two networks, each reading its own prefix (`model.da3.` / `model.da3_metric.`) with ties resolved.
 */
export function openCheckpoint(file: SafetensorsFile, config: NetConfig | ModelConfig, options: ValidateCheckpointOptions = {}): OpenedCheckpoint {
  const report = assertValidCheckpoint(file, config, options);
  const networks = report.networks.map((n) => ({ ...n, weights: new CheckpointWeights(file, n.prefix, report.ties) }));
  return { report, networks };
}
