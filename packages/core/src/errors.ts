/**
 * Error codes raised by `@da3js/core`. Every failure the library can foresee throws a
 * {@link Da3Error} with one of these codes, so callers can branch on `error.code` instead of
 * parsing messages.
 */
export type Da3ErrorCode =
  | 'BAD_SHAPE'
  | 'BAD_VALUE'
  | 'NON_FINITE'
  | 'EMPTY_INPUT'
  | 'BAD_CONFIG'
  | 'UNKNOWN_VARIANT'
  | 'BAD_SAFETENSORS'
  | 'UNSUPPORTED_DTYPE'
  | 'MISSING_TENSOR'
  /** A checkpoint holds tensors the model does not use, and `strict` loading was asked for. */
  | 'UNEXPECTED_TENSOR'
  | 'OUT_OF_RANGE'
  | 'DEGENERATE'
  | 'UNKNOWN_FORMAT'
  | 'IO'
  /** The runtime lacks a capability (WebGPU, `shader-f16`, cross-origin isolation, …); the message names it. */
  | 'UNSUPPORTED'
  /** The runtime ran out of memory (WASM heap, GPU buffers); the message says what was being allocated. */
  | 'OUT_OF_MEMORY'
  /** A credential or signature was missing, wrong or expired (API tokens, webhook signatures). */
  | 'UNAUTHORIZED'
  /** The caller's `AbortSignal` fired; nothing partial was left behind and the model stays usable. */
  | 'ABORTED';

/** Marks every {@link Da3Error}, whichever copy of the class made it (`Symbol.for`: shared across bundles). */
const DA3_ERROR_BRAND = Symbol.for('@da3js/core.Da3Error');

/**
 * The one error class of `@da3js/core`: a stable `code`, and a message that starts with where the
 * error came from and names the offending value.
 *
 * Usage:
 * ```ts
 * try { readSafetensorsHeader(bytes) } catch (e) { if (isDa3Error(e, 'BAD_SAFETENSORS')) … }
 * ```
 */
export class Da3Error extends Error {
  /** Stable machine-readable code. */
  readonly code: Da3ErrorCode;

  constructor(code: Da3ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Da3Error';
    this.code = code;
    Object.defineProperty(this, DA3_ERROR_BRAND, { value: true });
  }

  /**
   * `error instanceof Da3Error` holds for errors from any copy of this class — the CJS and ESM
   * builds, each subpath entry (`@da3js/core/protocol`), or two installed versions — by a
   * registered-symbol brand. Subclasses (`HubError`) keep the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` was asked about (a subclass keeps the prototype check)
    if (this !== Da3Error) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DA3_ERROR_BRAND] === true;
  }
}

/** True when `error` is a {@link Da3Error} (from any copy of the class), optionally with the given code. */
export function isDa3Error(error: unknown, code?: Da3ErrorCode): error is Da3Error {
  return error instanceof Da3Error && (code === undefined || error.code === code);
}

/**
 * What core reads of an `AbortSignal` (core has no DOM or Node types; every runtime's
 * `AbortSignal` fits). Core polls it between steps.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

/**
 * Throws `ABORTED` (with the signal's reason as `cause`) when `signal` has fired. Long operations
 * call it between steps: downloads, conversion, inference stages, exports.
 * @param what the operation, for the message (e.g. `inference`)
 */
export function throwIfAborted(signal: AbortSignalLike | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(signal, what);
}

/** The `ABORTED` error for `signal` (its reason as `cause`). */
export function abortedError(signal: AbortSignalLike | undefined, what: string): Da3Error {
  return new Da3Error('ABORTED', `${what} aborted`, { cause: signal?.reason });
}
