/**
 * The job's Durable Object as a state machine (real Durable Object storage in workerd): one claim
 * per attempt, retries with a maximum, dead-letter failures, late and duplicate completions
 * ignored, cancel wins.
 */
import { env, runDurableObjectAlarm } from 'cloudflare:test';
import type { Job } from '@da3js/core/protocol';
import { describe, expect, it } from 'vitest';
import type { EdgeJob } from '../src/job-object.js';

function newJob(): EdgeJob {
  const id = `job_${crypto.randomUUID().replace(/-/g, '')}`;
  return { id, keyId: 'key_t', state: 'queued', createdAt: Date.now(), progress: { stage: 'queued', fraction: 0 }, timings: {}, inputs: [{ key: `in/key_t/x/${id}`, size: 1 }], request: {}, attempt: 1, history: [] };
}

const stubOf = (id: string) => env.JOBS.get(env.JOBS.idFromName(id));

function remote(id: string, state: Job['state'], extra: Partial<Job> = {}): Job {
  return { id, state, createdAt: Date.now(), progress: { stage: state === 'running' ? 'network' : 'done', fraction: state === 'running' ? 0.5 : 1 }, timings: {}, ...extra };
}

describe('JobObject state machine', () => {
  it('an attempt is claimed once; a released claim can be taken again; a submitted attempt cannot', async () => {
    const job = newJob();
    const stub = stubOf(job.id);
    await stub.create(job);
    expect(await stub.claim(1)).toBeTruthy();
    expect(await stub.claim(1)).toBeUndefined(); // a duplicate delivery of the message
    expect(await stub.claim(2)).toBeUndefined(); // not the current attempt
    await stub.release(1);
    expect(await stub.claim(1)).toBeTruthy();
    await stub.submitted(1, { index: 0, name: 'gpu0', jobId: 'job_remote', output: 'keep', submittedAt: Date.now() });
    expect(await stub.claim(1)).toBeUndefined();
    expect((await stub.get())!.state).toBe('running');
  });

  it('a retryable failure starts the next attempt (re-queued); after MAX_ATTEMPTS it ends ATTEMPTS_EXHAUSTED with the history', async () => {
    const job = newJob();
    const stub = stubOf(job.id);
    await stub.create(job);
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await stub.claim(attempt)).toBeTruthy();
      await stub.submitted(attempt, { index: 0, name: 'gpu0', jobId: `r${attempt}`, output: 'keep', submittedAt: Date.now() });
      // A late completion of an older attempt changes nothing.
      if (attempt > 1) await stub.backendUpdate(attempt - 1, remote(`r${attempt - 1}`, 'succeeded', { result: { views: 1, width: 1, height: 1, isMetric: false, files: [] } }));
      await stub.backendUpdate(attempt, remote(`r${attempt}`, 'failed', { error: { code: 'INTERRUPTED', message: 'restarted', retryable: true } }));
    }
    const ended = (await stub.get())!;
    expect(ended.state).toBe('failed');
    expect(ended.attempt).toBe(3);
    expect(ended.error).toMatchObject({ code: 'ATTEMPTS_EXHAUSTED', retryable: true, message: expect.stringMatching(/3 attempt\(s\) failed; the last: INTERRUPTED/) });
    expect(ended.history.map((h) => h.attempt)).toEqual([1, 2, 3]);
  });

  it('a non-retryable failure ends the job at once; the dead-letter queue fails an undispatched attempt', async () => {
    const a = newJob();
    const sa = stubOf(a.id);
    await sa.create(a);
    await sa.claim(1);
    await sa.submitted(1, { index: 0, name: 'gpu0', jobId: 'ra', output: 'keep', submittedAt: Date.now() });
    await sa.backendUpdate(1, remote('ra', 'failed', { error: { code: 'UNKNOWN_FORMAT', message: 'x.png is not an image', retryable: false } }));
    expect((await sa.get())!).toMatchObject({ state: 'failed', attempt: 1, error: { code: 'UNKNOWN_FORMAT' } });
    const b = newJob();
    const sb = stubOf(b.id);
    await sb.create(b);
    await sb.dispatchFailed(1, 'no GPU backend took attempt 1');
    expect((await sb.get())!).toMatchObject({ state: 'failed', error: { code: 'DISPATCH_FAILED', message: 'no GPU backend took attempt 1' } });
  });

  it('progress from polls is kept; a completion from another backend job id is ignored; cancel wins over a late success', async () => {
    const job = newJob();
    const stub = stubOf(job.id);
    await stub.create(job);
    await stub.claim(1);
    await stub.submitted(1, { index: 0, name: 'gpu0', jobId: 'rx', output: 'keep', submittedAt: Date.now() });
    await stub.backendUpdate(1, remote('rx', 'running', { views: 3, progress: { stage: 'network', fraction: 0.4 } }));
    expect((await stub.get())!).toMatchObject({ state: 'running', views: 3, progress: { stage: 'network', fraction: 0.4 } });
    await stub.backendUpdate(1, remote('someone-else', 'failed', { error: { code: 'IO', message: 'x', retryable: true } }));
    expect((await stub.get())!.state).toBe('running');
    await stub.cancel();
    await stub.backendUpdate(1, remote('rx', 'succeeded', { result: { views: 3, width: 1, height: 1, isMetric: false, files: [] } }));
    expect((await stub.get())!).toMatchObject({ state: 'canceled', cancelRequested: true });
    expect((await stub.get())!.result).toBeUndefined();
  });

  it('an attempt past its deadline is ended by the alarm and retried', async () => {
    const job = newJob();
    const stub = stubOf(job.id);
    await stub.create(job);
    await stub.claim(1);
    // Submitted "an hour ago": past ATTEMPT_TIMEOUT_SECONDS (900).
    await stub.submitted(1, { index: 99, name: 'gone', jobId: 'rz', output: 'keep', submittedAt: Date.now() - 3_600_000 });
    // The alarm is due at once; run it if it has not run by itself yet.
    await runDurableObjectAlarm(stub);
    let after = (await stub.get())!;
    for (let i = 0; i < 50 && after.attempt === 1; i++) {
      await new Promise((ok) => setTimeout(ok, 20));
      after = (await stub.get())!;
    }
    expect(after).toMatchObject({ state: 'queued', attempt: 2 });
    expect(after.history[0].error.code).toBe('ATTEMPT_TIMEOUT');
  });
});
