import { type AbortSignalLike, abortedError, isDa3Error, throwIfAborted } from '@da3js/core';

export { throwIfAborted };

/**
 * Settles like `promise`, or rejects with `ABORTED` as soon as `signal` fires (whichever comes
 * first). The work behind `promise` is not stopped by this (use it where the work cannot be
 * interrupted but the caller must not wait, e.g. a graph already running on onnxruntime).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignalLike | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  throwIfAborted(signal, what);
  const target = signal as Partial<EventTarget>;
  if (typeof target.addEventListener !== 'function') return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal, what));
    target.addEventListener!('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        target.removeEventListener!('abort', onAbort);
        resolve(v);
      },
      (e) => {
        target.removeEventListener!('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * The error to rethrow from an operation that failed while `signal` was aborted: every abort
 * becomes the one typed `ABORTED` error (fetch and decoders reject with the signal's own reason,
 * a `DOMException` "AbortError"); other errors pass through.
 */
export function asAborted(error: unknown, signal: AbortSignalLike | undefined, what: string): unknown {
  if (signal?.aborted && !isDa3Error(error, 'ABORTED')) return abortedError(signal, what);
  return error;
}

/** A `fetch` that takes an {@link AbortSignalLike} and rejects with `ABORTED` when it fires. */
export async function fetchAbortable(url: string, init: RequestInit, signal: AbortSignalLike | undefined, what: string): Promise<Response> {
  throwIfAborted(signal, what);
  try {
    const real = signal && typeof AbortSignal !== 'undefined' && signal instanceof AbortSignal ? signal : undefined;
    return await abortable(fetch(url, real ? { ...init, signal: real } : init), signal, what);
  } catch (error) {
    throw asAborted(error, signal, what);
  }
}

/** Reads a response body as bytes, rejecting with `ABORTED` when `signal` fires meanwhile. */
export async function responseBytes(res: Response, signal: AbortSignalLike | undefined, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await abortable(res.arrayBuffer(), signal, what));
  } catch (error) {
    throw asAborted(error, signal, what);
  }
}
