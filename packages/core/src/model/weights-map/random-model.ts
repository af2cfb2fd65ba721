import type { ModelConfig, NetConfig } from '../../config/schema.js';
import { Da3Error } from '../../errors.js';
import type { Sink } from '../../io.js';
import { DTYPE_BYTES, float32ToFloat16Bits } from '../../weights/dtype.js';
import { encodeSafetensorsHeader, type LazySafetensorsEntry, writeSafetensorsToSink } from '../../weights/safetensors-writer.js';
import { DEFAULT_CHECKPOINT_PREFIX, type ExpectedTensor, expectedTensors, shapeNumel, tensorFanIn, tiedTensors } from './expected-tensors.js';

/** Storage dtypes of a random checkpoint. */
export type RandomCheckpointDtype = 'F32' | 'F16';

/** Options of {@link makeRandomCheckpoint} and friends. */
export interface RandomCheckpointOptions {
  /** Any integer (taken modulo 2³²); the same seed gives a byte-identical file. */
  seed: number;
  /** Key prefix (default `model.`, as the official files). */
  prefix?: string;
  /** Storage dtype (default `F32`); F16 rounds the float32 draws to nearest even. */
  dtype?: RandomCheckpointDtype;
}

/** Mean and standard deviation a random tensor is drawn with (see {@link randomInit}). */
export interface RandomInit {
  readonly mean: number;
  readonly std: number;
}

/** A streamed checkpoint before any data is produced: lazy entries, tie metadata and sizes. */
export interface RandomCheckpointLayout {
  /** One lazy entry per stored tensor; `load()` draws that tensor only. */
  readonly entries: Readonly<Record<string, LazySafetensorsEntry>>;
  /** The `__metadata__` map: `{removed: kept}` for tied keys, as the official files. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Exact file size in bytes (header included). */
  readonly byteLength: number;
  /** Header size in bytes (8-byte length + padded JSON). */
  readonly headerByteLength: number;
  readonly tensorCount: number;
  /** Stored elements (tied tensors once). */
  readonly parameterCount: number;
  /** Bytes of the largest tensor: the most the writer holds at once. */
  readonly largestTensorBytes: number;
}

/** What {@link makeRandomCheckpoint} wrote. */
export interface RandomCheckpointSummary {
  readonly byteLength: number;
  readonly tensorCount: number;
  readonly parameterCount: number;
}

/**
 * The distribution of each random tensor, chosen so a random network runs in float32 (and fp16)
 * without overflow; it is da3js's own, not the fixtures' torch init:
 * - Linear / Conv / ConvTranspose weights: mean 0, std 1/√fan_in ({@link tensorFanIn}), so each
 *   layer roughly preserves the variance of its input;
 * - biases: std 0.02; LayerNorm weight 1 ± 0.1 (std), LayerNorm bias std 0.02;
 * - LayerScale gamma: 0.1 ± 0.02, so each residual branch adds about a tenth of its output;
 * - cls / camera / register tokens: std 0.5; pos_embed: std 0.2;
 * - `cam_dec.fc_fov.0`: weight std 0.1/√fan_in and bias 1 ± 0.05, so the predicted FoVs are
 *   positive (the fov branch ends in a ReLU) and the intrinsics finite.
 */
export function randomInit(tensor: Pick<ExpectedTensor, 'name' | 'shape' | 'role'>): RandomInit {
  const fanIn = tensorFanIn(tensor);
  const fov = /(^|\.)cam_dec\.fc_fov\.0\.(weight|bias)$/.test(tensor.name);
  switch (tensor.role) {
    case 'linear':
    case 'conv':
    case 'conv-transpose':
      return { mean: 0, std: (fov ? 0.1 : 1) / Math.sqrt(fanIn ?? 1) };
    case 'bias':
      return fov ? { mean: 1, std: 0.05 } : { mean: 0, std: 0.02 };
    case 'norm-weight':
      return { mean: 1, std: 0.1 };
    case 'norm-bias':
      return { mean: 0, std: 0.02 };
    case 'layerscale':
      return { mean: 0.1, std: 0.02 };
    case 'pos-embed':
      return { mean: 0, std: 0.2 };
    default:
      return { mean: 0, std: 0.5 };
  }
}

/** FNV-1a of the name mixed with the seed (SplitMix32 finaliser): one independent stream per tensor. */
function tensorSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const SQRT3 = Math.sqrt(3);

/**
 * Draws one tensor: `mean + std·u` with `u` uniform on [−√3, √3) (unit variance, bounded, like
 * torch's default uniform init), from a mulberry32 stream seeded by `(seed, tensor.name)`. The
 * values depend only on the seed, the name and the size, never on the other tensors or the order
 * they are drawn in. Fast: a few integer ops per element (≈ 0.1–0.3 s per 34 M values).
 */
export function randomTensorValues(tensor: Pick<ExpectedTensor, 'name' | 'shape' | 'role'>, seed: number): Float32Array {
  const { mean, std } = randomInit(tensor);
  const out = new Float32Array(shapeNumel(tensor.shape));
  const scale = (2 * SQRT3 * std) / 4294967296;
  const offset = mean - SQRT3 * std;
  let state = tensorSeed(seed, tensor.name);
  for (let i = 0; i < out.length; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = offset + scale * ((t ^ (t >>> 14)) >>> 0);
  }
  return out;
}

/**
 * Plans a random checkpoint of `config` without drawing anything: every tensor of
 * {@link expectedTensors} as a lazy entry, tied keys stored once with the official
 * `__metadata__` tie map, and the exact file size.
 */
export function randomCheckpointLayout(config: NetConfig | ModelConfig, options: RandomCheckpointOptions): RandomCheckpointLayout {
  const dtype = options.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F16') throw new Da3Error('UNSUPPORTED_DTYPE', `random checkpoint: dtype must be F32 or F16, got ${String(dtype)}`);
  if (!Number.isFinite(options.seed)) throw new Da3Error('BAD_VALUE', `random checkpoint: seed must be a finite number, got ${options.seed}`);
  const prefix = options.prefix ?? DEFAULT_CHECKPOINT_PREFIX;
  const seed = options.seed >>> 0;
  const tensors = expectedTensors(config, prefix);
  const metadata = tiedTensors(config, prefix);
  const entries: Record<string, LazySafetensorsEntry> = {};
  let parameterCount = 0;
  let largest = 0;
  for (const t of tensors) {
    const numel = shapeNumel(t.shape);
    parameterCount += numel;
    largest = Math.max(largest, numel * DTYPE_BYTES[dtype]);
    entries[t.name] = {
      dtype,
      shape: t.shape,
      load: () => {
        const values = randomTensorValues(t, seed);
        return dtype === 'F16' ? float32ToFloat16Bits(values) : values;
      },
    };
  }
  const names = Object.keys(entries).sort();
  const headerByteLength = encodeSafetensorsHeader(
    names.map((n) => [n, entries[n]] as const),
    metadata,
  ).byteLength;
  return {
    entries,
    metadata,
    byteLength: headerByteLength + parameterCount * DTYPE_BYTES[dtype],
    headerByteLength,
    tensorCount: tensors.length,
    parameterCount,
    largestTensorBytes: largest,
  };
}

/**
 * Streams a random-weight `model.safetensors` for any configuration into `sink`: official key
 * names, every expected tensor drawn by {@link randomTensorValues}, tied tensors once plus the
 * `__metadata__` tie map. Only one tensor is in memory at a time (the largest DA3-GIANT tensor is
 * 50 MB in F32), so full-size models stream to disk; the sink gets the header, then one chunk per
 * tensor in name order, then `close()` (or `abort()` on error).
 */
export async function makeRandomCheckpoint(
  config: NetConfig | ModelConfig,
  options: RandomCheckpointOptions & { sink: Sink },
): Promise<RandomCheckpointSummary> {
  const layout = randomCheckpointLayout(config, options);
  await writeSafetensorsToSink(layout.entries, options.sink, layout.metadata);
  return { byteLength: layout.byteLength, tensorCount: layout.tensorCount, parameterCount: layout.parameterCount };
}

/** Largest file {@link makeRandomCheckpointBytes} builds in memory (1 GiB); stream anything bigger. */
export const MAX_IN_MEMORY_CHECKPOINT_BYTES = 2 ** 30;

/**
 * {@link makeRandomCheckpoint} into one `Uint8Array` (tiny test configs, DA3-SMALL); the bytes
 * are identical to the streamed file. Throws `Da3Error('OUT_OF_RANGE')` above
 * {@link MAX_IN_MEMORY_CHECKPOINT_BYTES}.
 */
export async function makeRandomCheckpointBytes(config: NetConfig | ModelConfig, options: RandomCheckpointOptions): Promise<Uint8Array> {
  const layout = randomCheckpointLayout(config, options);
  if (layout.byteLength > MAX_IN_MEMORY_CHECKPOINT_BYTES) {
    throw new Da3Error(
      'OUT_OF_RANGE',
      `random checkpoint: ${layout.byteLength} bytes is over the in-memory limit of ${MAX_IN_MEMORY_CHECKPOINT_BYTES}; use makeRandomCheckpoint with a streaming sink`,
    );
  }
  const out = new Uint8Array(layout.byteLength);
  let at = 0;
  await writeSafetensorsToSink(
    layout.entries,
    {
      write(chunk) {
        out.set(chunk, at);
        at += chunk.byteLength;
      },
    },
    layout.metadata,
  );
  if (at !== out.byteLength) throw new Da3Error('BAD_SAFETENSORS', `random checkpoint: wrote ${at} bytes, planned ${out.byteLength}`);
  return out;
}
