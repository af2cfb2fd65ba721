import { Da3Error, type Da3ErrorCode } from '@da3js/core';

/** Why a client call failed, besides core's error code. */
export type ClientErrorReason =
  /** The backend answered an HTTP error status (see `status` and `body`). */
  | 'HTTP'
  /** The backend could not be reached, or the connection broke (after the retries). */
  | 'NETWORK'
  /** No answer within the timeout (after the retries), or `wait` ran out of time. */
  | 'TIMEOUT'
  /** The backend answered something that is not the protocol (wrong JSON, missing fields). */
  | 'BAD_RESPONSE'
  /** A downloaded result file does not match its manifest (size or sha256). */
  | 'INTEGRITY'
  /** The AbortSignal fired. */
  | 'ABORTED';

/**
 * The error of `@da3js/client`: a core {@link Da3Error} (`isDa3Error(e, 'IO')` works) that names
 * the backend, the reason and, for HTTP errors, the status and the backend's error body.
 */
export class Da3ClientError extends Da3Error {
  readonly backend: string;
  readonly reason: ClientErrorReason;
  readonly status?: number;
  /** The backend's error (`{ code, message }` of the job protocol, or its raw text). */
  readonly body?: unknown;

  constructor(code: Da3ErrorCode, reason: ClientErrorReason, backend: string, message: string, details: { status?: number; body?: unknown; cause?: unknown } = {}) {
    super(code, `${backend}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'Da3ClientError';
    this.backend = backend;
    this.reason = reason;
    this.status = details.status;
    this.body = details.body;
  }
}

/** True when `error` is a {@link Da3ClientError} (optionally with the given reason). */
export function isClientError(error: unknown, reason?: ClientErrorReason): error is Da3ClientError {
  return error instanceof Da3ClientError && (reason === undefined || error.reason === reason);
}
