/**
 * The seam between the runtime-free core and each runtime (node, web, GPU worker). Core declares
 * these small interfaces; `@da3js/node` and `@da3js/web` implement them.
 */

/**
 * Random-access, read-only bytes: a file handle (node), a `Blob` (web) or HTTP range requests.
 * Readers such as the safetensors reader only ever ask for the ranges they need.
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads `length` bytes starting at byte `offset`. Must resolve to exactly `length` bytes or
   * reject; callers validate ranges against {@link ByteSource.size} first.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A streamed byte sink: a temp file renamed on `close` (node) or a growing `Blob` (web). */
export interface Sink {
  /** Appends a chunk. The sink may keep a reference to the chunk until the promise settles. */
  write(chunk: Uint8Array): void | Promise<void>;
  /** Finishes the output (e.g. renames the temp file into place). */
  close?(): void | Promise<void>;
  /** Discards everything written so far; nothing half-written is left behind. */
  abort?(reason?: unknown): void | Promise<void>;
}

/** A cache with the Web Cache API's `match`/`put` shape (transformers.js convention). */
export interface ModelCache {
  /** Returns the cached bytes for `key`, or `undefined` when absent. */
  match(key: string): Promise<ByteSource | undefined>;
  /** Stores bytes under `key`. */
  put(key: string, data: Uint8Array | ByteSource): Promise<void>;
}

/** Element types a runner exchanges with the network. */
export type TensorElements = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** A dense row-major tensor: `data.length` equals the product of `shape`. */
export interface TensorData<T extends TensorElements = Float32Array> {
  readonly data: T;
  readonly shape: readonly number[];
}

/** Runs the DA3 graph once: named inputs in, named outputs out (the graph contract). */
export interface Da3Runner {
  run(feeds: Readonly<Record<string, TensorData<TensorElements>>>): Promise<Record<string, TensorData<TensorElements>>>;
  /** Releases the session and any device memory. */
  dispose?(): Promise<void>;
}
