/**
 * The edge API's OpenAPI 3.1 document, generated from the same zod schemas the routes validate
 * with (served at `GET /v1/openapi.json`; `apps/edge/openapi.json` is a committed copy that a test
 * keeps identical).
 */
import { ApiErrorBodySchema, JobSchema } from '@da3js/core/protocol';
import { z } from 'zod';
import { CreateKeySchema, EdgeJobRequestSchema, UploadRequestSchema } from './schemas.js';

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const json = (ref: string) => ({ content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const error = (description: string) => ({ description, ...json('Error') });
const errors = {
  '400': error('Invalid request (issues name every problem)'),
  '401': error('Missing, unknown or revoked API key'),
  '403': error('The key lacks the scope, or the object belongs to another key'),
  '429': error('Over the key’s rate limit (Retry-After)'),
};

export function openApiDocument(serverUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'DA3 edge API', version: '1.0.0', description: 'Depth Anything 3 reconstructions: upload photos or a video, queue a job on GPU workers, download depth, cameras and 3D scenes. Job protocol v1 (docs/job-protocol.md).' },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: da3_…' } },
      schemas: {
        JobRequest: schema(EdgeJobRequestSchema, 'input'),
        Job: schema(JobSchema),
        UploadRequest: schema(UploadRequestSchema, 'input'),
        UploadResponse: {
          type: 'object',
          properties: {
            uploads: {
              type: 'array',
              items: {
                type: 'object',
                properties: { name: { type: 'string' }, key: { type: 'string' }, method: { const: 'PUT' }, url: { type: 'string' }, expiresAt: { type: 'integer' }, headers: { type: 'object', additionalProperties: { type: 'string' } } },
                required: ['name', 'key', 'method', 'url', 'expiresAt'],
              },
            },
          },
          required: ['uploads'],
        },
        CreateKey: schema(CreateKeySchema, 'input'),
        Error: schema(ApiErrorBodySchema),
      },
    },
    paths: {
      '/v1/uploads': {
        post: {
          summary: 'Presigned PUT URLs for input files (up to MAX_UPLOAD_BYTES each); use their keys as job inputs',
          requestBody: { required: true, ...json('UploadRequest') },
          responses: { '200': { description: 'One upload URL per file', ...json('UploadResponse') }, '413': error('A file over the size limit'), ...errors },
        },
      },
      '/v1/jobs': {
        post: {
          summary: 'Queue a reconstruction',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }],
          requestBody: { required: true, ...json('JobRequest') },
          responses: {
            '202': { description: 'Queued', ...json('Job') },
            '200': { description: 'An earlier job with this idempotency key (Idempotent-Replayed: true)', ...json('Job') },
            '409': error('The idempotency key was used for another request'),
            '413': error('Inline inputs over MAX_INLINE_BYTES'),
            ...errors,
          },
        },
      },
      '/v1/jobs/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: { summary: 'State, progress and result manifest', responses: { '200': { description: 'The job', ...json('Job') }, '404': error('No such job for this key'), ...errors } },
        delete: { summary: 'Cancel', responses: { '202': { description: 'The job (canceled, or already ended)', ...json('Job') }, '404': error('No such job for this key'), ...errors } },
      },
      '/v1/jobs/{id}/files/{path}': {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'A name from result.files (may contain "/")' },
          { name: 'redirect', in: 'query', required: false, schema: { const: '1' }, description: '302 to a short-lived signed URL instead of the bytes' },
        ],
        get: {
          summary: 'A result file',
          responses: { '200': { description: 'The bytes', content: { 'application/octet-stream': {} } }, '302': { description: 'To a signed URL' }, '404': error('No such file'), ...errors },
        },
      },
      '/v1/admin/keys': {
        post: { summary: 'Create an API key (admin token); the key is shown once', requestBody: { required: true, ...json('CreateKey') }, responses: { '201': { description: '{ id, key }' }, '401': error('Not the admin token') } },
      },
      '/v1/admin/keys/{id}': {
        delete: { summary: 'Revoke an API key (admin token)', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '204': { description: 'Revoked' }, '404': error('No such key') } },
      },
    },
  };
}
