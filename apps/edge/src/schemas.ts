/**
 * The edge API's request bodies: the job protocol v1 (`@da3js/core/protocol`) with inputs that may
 * also name an uploaded object (`{ key }`), plus the upload and API-key requests. Responses are the
 * protocol's `Job` (so `@da3js/client`'s `da3Worker` can talk to the edge too).
 */
import { JobExportOptionsSchema, JobInferenceOptionsSchema, JobInputSchema, MAX_JOB_INPUTS } from '@da3js/core/protocol';
import { z } from 'zod';

const safeName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
  .refine((s) => s !== '.' && s !== '..', 'not "." or ".."');

function isHttpUrl(s: string): boolean {
  try {
    return /^https?:$/.test(new URL(s).protocol);
  } catch {
    return false;
  }
}

/** An input uploaded through `POST /v1/uploads` (its `key`), or one of the protocol's inputs. */
export const EdgeInputSchema = z.union([
  z.object({ key: z.string().min(1).max(1024), kind: z.enum(['image', 'video']).optional(), name: z.string().min(1).max(255).optional() }).strict(),
  JobInputSchema,
]);
export type EdgeInput = z.infer<typeof EdgeInputSchema>;

/** `POST /v1/jobs`. */
export const EdgeJobRequestSchema = z
  .object({
    inputs: z.array(EdgeInputSchema).min(1).max(MAX_JOB_INPUTS),
    options: JobInferenceOptionsSchema.optional(),
    formats: z.union([z.string().min(1).max(256), z.array(z.string().min(1).max(64)).min(1).max(32)]).optional(),
    exportOptions: JobExportOptionsSchema.optional(),
    /** Results always land in R2; only `keep` (the default) is accepted. */
    output: z.object({ type: z.literal('keep') }).strict().optional(),
    /** Your webhook: POSTed when the job ends, signed (Standard Webhooks) with the API's secret. */
    callbackUrl: z
      .string()
      .max(2048)
      .refine(isHttpUrl, 'must be an absolute http(s) URL')
      .optional(),
    idempotencyKey: z.string().min(1).max(255).optional(),
    metadata: z
      .record(z.string().min(1).max(64), z.string().max(1024))
      .refine((m) => Object.keys(m).length <= 32, 'at most 32 entries')
      .optional(),
  })
  .strict();
export type EdgeJobRequest = z.infer<typeof EdgeJobRequestSchema>;

/** `POST /v1/uploads`: the files you are about to upload. */
export const UploadRequestSchema = z
  .object({
    files: z
      .array(z.object({ name: safeName, size: z.number().int().min(1), contentType: z.string().min(1).max(127).optional() }).strict())
      .min(1)
      .max(MAX_JOB_INPUTS),
  })
  .strict();
export type UploadRequest = z.infer<typeof UploadRequestSchema>;

/** `POST /v1/admin/keys`. */
export const CreateKeySchema = z
  .object({
    name: z.string().min(1).max(128),
    scopes: z.array(z.enum(['jobs:write', 'jobs:read', 'uploads:write'])).min(1).optional(),
    ratePerMinute: z.number().int().min(1).max(100_000).optional(),
  })
  .strict();

/** `{ path: message }` lines of a zod error, for 400 bodies. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
}
