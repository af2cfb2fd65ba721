/**
 * The inference service's job records, persisted under `<stateDir>/jobs/<id>/`:
 * `request.json` (what was submitted, inline inputs included), `job.json` (the public state,
 * rewritten atomically on every change) and `files/` (kept results). A restarted service reloads
 * them: queued jobs are queued again, jobs that were running end `failed` with `INTERRUPTED`
 * (they never run twice), idempotency keys keep answering with their job.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Da3Error, canonicalJson } from '@da3js/core';
import { type Job, type JobRequest, type JobState, isTerminalJobState } from '@da3js/core/protocol';
import { writeFileAtomic } from '../hub/fs.js';

/** A job with what the service needs besides its public state. */
export interface JobRecord {
  job: Job;
  readonly request: JobRequest;
  /** sha256 of the canonical request, to tell a replay from a key reused for another request. */
  readonly requestHash: string;
}

const JOB_ID = /^job_[0-9a-f]{32}$/;

/** sha256 (hex) of a request's canonical JSON, its idempotency key left out (header or body alike). */
export function requestHash(request: JobRequest): string {
  const { idempotencyKey: _key, ...rest } = request;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

export class JobStore {
  private readonly records = new Map<string, JobRecord>();
  private readonly keys = new Map<string, string>();
  private readonly writes = new Map<string, Promise<void>>();
  readonly root: string;

  constructor(stateDir: string) {
    this.root = join(stateDir, 'jobs');
  }

  /** True for a string shaped like a job id (anything else is never a path). */
  static isJobId(id: string): boolean {
    return JOB_ID.test(id);
  }

  jobDir(id: string): string {
    if (!JobStore.isJobId(id)) throw new Da3Error('BAD_VALUE', `not a job id: ${JSON.stringify(id)}`);
    return join(this.root, id);
  }

  filesDir(id: string): string {
    return join(this.jobDir(id), 'files');
  }

  /**
   * Reads every persisted job. Returns the ids to queue again (in creation order); jobs found
   * `running` become `failed` / `INTERRUPTED`.
   */
  async load(now = Date.now()): Promise<{ requeue: string[]; interrupted: string[] }> {
    await mkdir(this.root, { recursive: true });
    const requeue: JobRecord[] = [];
    const interrupted: string[] = [];
    for (const name of await readdir(this.root)) {
      if (!JobStore.isJobId(name)) continue;
      let record: JobRecord;
      try {
        const job = JSON.parse(await readFile(join(this.root, name, 'job.json'), 'utf8')) as Job;
        const request = JSON.parse(await readFile(join(this.root, name, 'request.json'), 'utf8')) as JobRequest;
        record = { job, request, requestHash: requestHash(request) };
      } catch {
        await rm(join(this.root, name), { recursive: true, force: true }); // half-created before a crash
        continue;
      }
      this.records.set(record.job.id, record);
      if (record.job.idempotencyKey) this.keys.set(record.job.idempotencyKey, record.job.id);
      if (record.job.state === 'queued') requeue.push(record);
      else if (record.job.state === 'running') {
        interrupted.push(record.job.id);
        await this.update(record.job.id, {
          state: 'failed',
          finishedAt: now,
          error: { code: 'INTERRUPTED', message: 'the service stopped while this job was running; submit it again (with a new idempotency key)', retryable: true },
        });
      }
    }
    requeue.sort((a, b) => a.job.createdAt - b.job.createdAt);
    return { requeue: requeue.map((r) => r.job.id), interrupted };
  }

  get(id: string): JobRecord | undefined {
    return this.records.get(id);
  }

  byIdempotencyKey(key: string): JobRecord | undefined {
    const id = this.keys.get(key);
    return id === undefined ? undefined : this.records.get(id);
  }

  /** Creates and persists a queued job. */
  async create(request: JobRequest, idempotencyKey: string | undefined, now = Date.now()): Promise<JobRecord> {
    const id = `job_${randomUUID().replace(/-/g, '')}`;
    const job: Job = {
      id,
      state: 'queued',
      createdAt: now,
      progress: { stage: 'queued', fraction: 0 },
      timings: {},
      ...(idempotencyKey ? { idempotencyKey } : {}),
      ...(request.metadata ? { metadata: request.metadata } : {}),
    };
    const record: JobRecord = { job, request, requestHash: requestHash(request) };
    this.records.set(id, record);
    if (idempotencyKey) this.keys.set(idempotencyKey, id);
    await mkdir(this.jobDir(id), { recursive: true });
    await writeFileAtomic(join(this.jobDir(id), 'request.json'), JSON.stringify(request));
    await this.persist(id);
    return record;
  }

  /** Applies `patch` to the job's public state and persists it (writes of one job stay in order). */
  async update(id: string, patch: Partial<Job>): Promise<Job> {
    const record = this.records.get(id);
    if (!record) throw new Da3Error('BAD_VALUE', `no job ${id}`);
    record.job = { ...record.job, ...patch };
    await this.persist(id);
    return record.job;
  }

  private persist(id: string): Promise<void> {
    const previous = this.writes.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      const record = this.records.get(id);
      if (record) await writeFileAtomic(join(this.jobDir(id), 'job.json'), JSON.stringify(record.job));
    });
    this.writes.set(
      id,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Jobs per state (for metrics). */
  countByState(): Record<JobState, number> {
    const counts: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0 };
    for (const r of this.records.values()) counts[r.job.state]++;
    return counts;
  }

  /** Deletes finished jobs older than `ttlMs`, and the oldest beyond `keep`, with their files. */
  async evict(ttlMs: number, keep: number, now = Date.now()): Promise<string[]> {
    const finished = [...this.records.values()].filter((r) => isTerminalJobState(r.job.state)).sort((a, b) => (a.job.finishedAt ?? 0) - (b.job.finishedAt ?? 0));
    const doomed = finished.filter((r, i) => now - (r.job.finishedAt ?? now) > ttlMs || i < finished.length - keep);
    for (const r of doomed) {
      this.records.delete(r.job.id);
      if (r.job.idempotencyKey && this.keys.get(r.job.idempotencyKey) === r.job.id) this.keys.delete(r.job.idempotencyKey);
      await this.writes.get(r.job.id);
      this.writes.delete(r.job.id);
      await rm(this.jobDir(r.job.id), { recursive: true, force: true });
    }
    return doomed.map((r) => r.job.id);
  }
}
