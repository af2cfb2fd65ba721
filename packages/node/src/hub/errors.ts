import { Da3Error, type Da3ErrorCode } from '@da3js/core';

/**
 * Why a hub operation failed. `error.code` stays one of core's codes (`IO` for everything that
 * touched the network or the cache, `BAD_VALUE` for a malformed id, file name or revision); the
 * `reason` tells the cases apart without parsing the message.
 */
export type HubErrorReason =
  /** The repository does not exist, or is private/gated and the request had no valid token. */
  | 'REPO_NOT_FOUND'
  /** The repository exists but has no such file at that revision. */
  | 'FILE_NOT_FOUND'
  /** The repository has no such branch, tag or commit. */
  | 'REVISION_NOT_FOUND'
  /** HTTP 401: a token is missing or invalid. */
  | 'UNAUTHORIZED'
  /** HTTP 403: the token has no access (e.g. a gated model whose licence was not accepted). */
  | 'FORBIDDEN'
  /** Any other HTTP error status. */
  | 'HTTP'
  /** The server could not be reached or the connection broke (after the retries). */
  | 'NETWORK'
  /** `localFilesOnly` (or `HF_HUB_OFFLINE`) and the file is not in the cache. */
  | 'NOT_CACHED'
  /** The downloaded bytes do not match the announced size or sha256 (after one re-download). */
  | 'INTEGRITY'
  /** The server's answer lacks what the cache needs (e.g. a Range answer for another offset). */
  | 'BAD_RESPONSE'
  /** The AbortSignal fired (code `ABORTED`; a partial `.incomplete` blob is kept for resuming). */
  | 'ABORTED'
  /** A malformed repo id, file name or revision. */
  | 'BAD_ID'
  /** A local path that does not exist or lacks its config.json / weights. */
  | 'LOCAL_MISSING'
  /** A path the cache would read or write resolves outside the cache folder (a hostile response or planted link). */
  | 'UNSAFE_PATH'
  /** The server stalled: no answer, or no body bytes, within the timeout (after the retries). */
  | 'TIMEOUT'
  /** The cache folder could not be read or written (a full disk, permissions, a file where a folder belongs). */
  | 'FILESYSTEM';

/** Details carried by a {@link HubError}. */
export interface HubErrorDetails {
  readonly url?: string;
  readonly repo?: string;
  readonly file?: string;
  readonly revision?: string;
  /** HTTP status when the server answered. */
  readonly status?: number;
  readonly cause?: unknown;
}

/**
 * The error of the hub client: a core {@link Da3Error} (so `isDa3Error(e, 'IO')` works) with a
 * machine-readable {@link HubErrorReason} and the URL / repo / file / status involved.
 */
export class HubError extends Da3Error {
  readonly reason: HubErrorReason;
  readonly url?: string;
  readonly repo?: string;
  readonly file?: string;
  readonly revision?: string;
  readonly status?: number;

  constructor(code: Da3ErrorCode, reason: HubErrorReason, message: string, details: HubErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HubError';
    this.reason = reason;
    this.url = details.url;
    this.repo = details.repo;
    this.file = details.file;
    this.revision = details.revision;
    this.status = details.status;
  }
}

/** True when `error` is a {@link HubError}, optionally with the given reason. */
export function isHubError(error: unknown, reason?: HubErrorReason): error is HubError {
  return error instanceof HubError && (reason === undefined || error.reason === reason);
}
