/**
 * The add-on and the services cannot drift: the add-on's request builders (run by Debian's
 * python3 from the built zip) produce JSON that `JobRequestSchema` (`da3 backend`, gpu-worker) and
 * the edge API's published schemas accept, and its parsers read jobs and error bodies generated
 * from `JobSchema` / `ApiErrorBodySchema`. The contract shipped in the zip is the current one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiErrorBodySchema, type Job, JobRequestSchema, JobSchema } from '@da3js/core/protocol';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { REPO_ROOT } from '../../../test-utils/fixtures.js';
import { requireTool } from '../../../test-utils/tools.js';
import { addonContract, addonFiles, blenderManifest, buildAddonZip, stampBlInfoVersion } from '../src/index.js';
import { addonZip } from './helpers/blender.js';

const PY = '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

const tmp = mkdtempSync(join(tmpdir(), 'da3js-blender-contract-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha = 'a'.repeat(64);
const JOBS: Job[] = [
  { id: 'job_q', state: 'queued', createdAt: 1, progress: { stage: 'queued', fraction: 0 }, timings: {} },
  { id: 'job_r', state: 'running', createdAt: 1, startedAt: 2, progress: { stage: 'network', fraction: 0.45 }, timings: { fetch: 3 }, views: 4, cancelRequested: true },
  {
    id: 'job_s',
    state: 'succeeded',
    createdAt: 1,
    startedAt: 2,
    finishedAt: 3,
    progress: { stage: 'done', fraction: 1 },
    timings: { network: 20 },
    views: 4,
    result: { views: 4, width: 504, height: 378, isMetric: true, files: [{ name: 'exports/npz/results.npz', size: 1234, sha256: sha, contentType: 'application/zip', url: '/v1/jobs/job_s/files/exports/npz/results.npz' }] },
  },
  { id: 'job_f', state: 'failed', createdAt: 1, progress: { stage: 'decode', fraction: 0.1 }, timings: {}, error: { code: 'IO', message: 'cannot decode a.jpg', retryable: true } },
  { id: 'job_c', state: 'canceled', createdAt: 1, progress: { stage: 'fetch', fraction: 0 }, timings: {} },
];
const ERRORS: [number, unknown][] = [
  [401, { error: { code: 'UNAUTHORIZED', message: 'a valid "Authorization: Bearer <token>" header is required' } }],
  [429, { error: { code: 'QUEUE_FULL', message: 'the queue is full (16 jobs)' } }],
  [400, { error: { code: 'BAD_REQUEST', message: 'the job request is invalid', issues: [{ path: 'options.processRes', message: 'Too big' }] } }],
  [503, { error: { code: 'LOADING', message: 'the model is still loading; retry shortly' } }],
];

// biome-ignore lint/suspicious/noExplicitAny: the JSON the Python script prints
function runContract(): Record<string, any> {
  const cases = join(tmp, 'cases.json');
  for (const j of JOBS) JobSchema.parse(j);
  for (const [, b] of ERRORS) ApiErrorBodySchema.parse(b);
  const edge = JSON.parse(readFileSync(join(REPO_ROOT, 'apps', 'edge', 'openapi.json'), 'utf8')).components.schemas;
  const upload = { uploads: [{ name: '0000_a_photo__1_.png', key: 'in/k1/b/0000_a_photo__1_.png', method: 'PUT', url: 'https://r2.example/in/k1?X-Amz-Signature=1', expiresAt: 2, headers: { 'content-type': 'image/png' } }] };
  z.fromJSONSchema(edge.UploadResponse).parse(upload);
  writeFileSync(
    cases,
    JSON.stringify({
      jobs: [...JOBS, { id: 'x', state: 'exploded', createdAt: 1, progress: { stage: 'queued', fraction: 0 }, timings: {} }, { id: 'y', state: 'succeeded', createdAt: 1, progress: { stage: 'done', fraction: 1 }, timings: {} }, 'not a job'],
      errorBodies: [...ERRORS.map(([s, b]) => [s, JSON.stringify(b)]), [502, '<html>Bad gateway</html>']],
      uploadAnswers: [upload, { uploads: [{ name: 'a', key: 'k', url: 'file:///etc/passwd' }] }, { nope: 1 }],
    }),
  );
  const r = spawnSync(PY, [join(__dirname, 'python', 'contract_check.py'), addonZip(), cases, tmp], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('DA3JS_RESULT '));
  if (!line) throw new Error(`contract_check.py failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice('DA3JS_RESULT '.length));
}

describe('the add-on speaks job protocol v1', () => {
  it('ships the current contract, manifest and bl_info version in the zip', () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    const files = unzipSync(new Uint8Array(readFileSync(addonZip())));
    expect(JSON.parse(strFromU8(files['da3_blender/remote/protocol.json']))).toEqual(addonContract());
    expect(strFromU8(files['da3_blender/blender_manifest.toml'])).toBe(blenderManifest(version));
    const [major, minor, patch] = version.split(/[.+-]/).map(Number);
    expect(strFromU8(files['da3_blender/__init__.py'])).toContain(`"version": (${major}, ${minor}, ${patch}),`);
    expect(strFromU8(files['da3_blender/LICENSE'])).toBe(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8'));
    expect(Object.keys(files).every((f) => f.startsWith('da3_blender/'))).toBe(true);
    expect(Object.keys(files).some((f) => f.includes('__pycache__') || f.endsWith('.pyc'))).toBe(false);
  });

  it('builds reproducible zips and refuses bad versions and sources', () => {
    const files = new Map([['__init__.py', new TextEncoder().encode('bl_info = {\n    "version": (0, 0, 0),\n}\n')]]);
    const a = buildAddonZip({ files, version: '1.2.3', license: 'L' });
    expect(buildAddonZip({ files, version: '1.2.3', license: 'L' })).toEqual(a);
    expect(strFromU8(unzipSync(a)['da3_blender/__init__.py'])).toContain('"version": (1, 2, 3),');
    expect(blenderManifest('1.2.3-rc.1')).toContain('version = "1.2.3-rc.1"');
    expect(() => blenderManifest('v1')).toThrow(/semver/);
    expect(() => stampBlInfoVersion('bl_info = {}', '1.0.0')).toThrow(/exactly one/);
    expect(() => addonFiles({ files: new Map([['../x.py', new Uint8Array()], ['__init__.py', files.get('__init__.py')!]]), version: '1.0.0', license: '' })).toThrow(/bad add-on path/);
    expect(() => addonFiles({ files: new Map(), version: '1.0.0', license: '' })).toThrow(/no __init__.py/);
  });

  it("the add-on's requests pass the services' schemas and its parsers read their answers", (ctx) => {
    if (!requireTool(ctx, hasNumpy, `${PY} cannot import numpy: apt-get install -y python3-numpy`)) return;
    const r = runContract();
    const c = addonContract();
    expect(r.contract).toEqual({ version: c.protocolVersion, states: c.jobStates, stages: c.jobStages });

    // Requests: the backend/worker schema, and the edge API's published ones.
    const edge = JSON.parse(readFileSync(join(REPO_ROOT, 'apps', 'edge', 'openapi.json'), 'utf8')).components.schemas;
    for (const key of ['default', 'everything']) {
      const parsed = JobRequestSchema.safeParse(r.requests[key]);
      expect(parsed.success, `${key}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
    expect(r.requests.default).toEqual({
      inputs: [
        { data: Buffer.from('\x89PNG fake image bytes', 'latin1').toString('base64'), name: 'a photo (1).png' },
        { data: Buffer.from('\xff\xd8 another', 'latin1').toString('base64'), name: 'b.jpg' },
      ],
      options: { processRes: 504, processResMethod: 'upper_bound_resize', refViewStrategy: 'saddle_balanced', useRayPose: false },
      formats: ['npz'],
    });
    expect(r.requests.everything.inputs[0].kind).toBe('video');
    expect(r.requests.everything.options).toEqual({ processRes: 280, processResMethod: 'lower_bound_crop', refViewStrategy: 'first', useRayPose: true, inferGs: true, video: { fps: 2.5, maxFrames: 10 } });
    expect(r.requests.everything.formats).toEqual(['npz', 'gs_ply']);
    expect(r.requests.everything.metadata.scene).toHaveLength(1024);
    expect(JobRequestSchema.safeParse(r.requests.edge).success).toBe(false); // `key` inputs are the edge's
    expect(() => z.fromJSONSchema(edge.JobRequest).parse(r.requests.edge)).not.toThrow();
    expect(() => z.fromJSONSchema(edge.JobRequest).parse(r.requests.default)).not.toThrow();
    expect(() => z.fromJSONSchema(edge.UploadRequest).parse(r.upload_request)).not.toThrow();
    expect(r.upload_request.files.map((f: { name: string }) => f.name)).toEqual(['0000_a_photo__1_.png', '0001_b.jpg']);
    expect(r.input_errors).toMatchObject({
      none: { code: 'NO_INPUT' },
      video_and_image: { code: 'BAD_VALUE' },
      too_many: { code: 'BAD_VALUE' },
      bad_method: { code: 'BAD_VALUE' },
      bad_res: { code: 'BAD_VALUE' },
    });

    // Answers: every job state, malformed jobs, error bodies, uploads.
    const [queued, running, succeeded, failed, canceled, unknown, noResult, junk] = r.jobs;
    expect(queued).toMatchObject({ state: 'queued', stage: 'queued', terminal: false, text: 'queued 0%' });
    expect(running).toMatchObject({ state: 'running', stage: 'network', fraction: 0.45, terminal: false, views: 4, cancelRequested: true, text: 'network 45%' });
    expect(succeeded).toMatchObject({ state: 'succeeded', terminal: true, views: 4, size: [504, 378], isMetric: true, files: [['exports/npz/results.npz', 1234, sha]] });
    expect(failed).toMatchObject({ state: 'failed', terminal: true, error: ['IO', 'cannot decode a.jpg', true] });
    expect(canceled).toMatchObject({ state: 'canceled', terminal: true });
    for (const bad of [unknown, noResult, junk]) expect(bad.failed).toBe('BAD_RESPONSE');
    expect(r.errors.map((e: { code: string }) => e.code)).toEqual(['UNAUTHORIZED', 'QUEUE_FULL', 'BAD_REQUEST', 'LOADING', 'HTTP_502']);
    expect(r.errors[2].message).toBe('the job request is invalid: options.processRes: Too big');
    expect(r.errors[0].report).toBe('[UNAUTHORIZED] a valid "Authorization: Bearer <token>" header is required');
    expect(r.errors[4]).toMatchObject({ status: 502, message: 'the service answered 502: <html>Bad gateway</html>' });
    expect(r.uploads[0]).toEqual([{ name: '0000_a_photo__1_.png', key: 'in/k1/b/0000_a_photo__1_.png', url: 'https://r2.example/in/k1?X-Amz-Signature=1', method: 'PUT', headers: { 'content-type': 'image/png' } }]);
    expect(r.uploads[1]).toEqual({ failed: 'BAD_RESPONSE' });
    expect(r.uploads[2]).toEqual({ failed: 'BAD_RESPONSE' });
  });
});
