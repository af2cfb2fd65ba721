/**
 * `@da3js/client`: Depth Anything 3 as a remote service over plain `fetch` — the da3js GPU worker
 * (`da3Worker`), the same worker on Modal (`modal`), and Replicate predictions (`replicate`), all
 * behind one interface ({@link Da3Client}): submit, status, cancel, wait, result. Runs in Node ≥ 20,
 * browsers, Cloudflare Workers and Deno (no Node built-ins; `fetch`, `AbortSignal`, `crypto` only).
 */
export { type BackendHealth, type Da3Client, type ResultFile, type SubmitOptions, type WaitOptions, BaseClient, newIdempotencyKey } from './client.js';
export { type Da3WorkerOptions, type ModalOptions, ProtocolClient, da3Worker, modal } from './da3-worker.js';
export { type ReplicateOptions, ReplicateClient, replicate } from './replicate.js';
export { type ClientErrorReason, Da3ClientError, isClientError } from './errors.js';
export { type RequestOptions, type TransportOptions, retryAfterMs } from './http.js';
export {
  type Job,
  type JobFile,
  type JobInput,
  type JobRequest,
  type JobState,
  type JobWebhookEvent,
  type WebhookHeaders,
  JOB_PROTOCOL_VERSION,
  generateWebhookSecret,
  verifyWebhook,
} from '@da3js/core/protocol';
