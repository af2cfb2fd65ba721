/**
 * `@da3js/core/protocol`: the DA3 job protocol (v1) shared by `da3 backend`, apps/gpu-worker, the
 * edge API and `@da3js/client` — zod schemas, types, and Standard Webhooks signing. A subpath of
 * its own, so apps that only run models do not bundle zod.
 */
export * from './job.js';
export * from './webhooks.js';
