#!/usr/bin/env node
// Load and faults against the whole stack on loopback (bounded; nothing leaves 127.0.0.1):
// `wrangler dev` + two GPU workers (tiny model) behind proxies that fail a share of their requests
// (500s, resets, hangs past the edge's backend timeout), one worker killed with SIGKILL mid-run and
// restarted. N jobs (uploads + submit + poll) at a given concurrency. Checks: every job reaches a
// terminal state, none is lost or duplicated, every succeeded job's files download with their
// manifest sizes. Writes a JSON report to bench/results/edge-loadtest-<date>.json.
//
//   npm run build && npm run loadtest -w @da3js/edge -- --jobs 1000 --concurrency 50 --fault-rate 0.2
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createKey, runJob, startStack } from './stack.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    'fault-rate': { type: 'string', default: '0.2' },
    'crash-after': { type: 'string', default: '0.3' },
    keep: { type: 'boolean', default: false },
  },
});
const JOBS = Number(values.jobs);
const CONCURRENCY = Number(values.concurrency);
const FAULT_RATE = Number(values['fault-rate']);
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const pngs = [0, 1].map((i) => readFileSync(join(root, 'examples', 'scene', `view${i}.png`)));
console.log(`loadtest: starting the stack (wrangler dev + 2 GPU workers, fault rate ${FAULT_RATE})…`);
const stack = await startStack({
  keep: values.keep,
  log: join(root, 'bench', 'results', 'edge-loadtest.log'),
  faults: { rate: FAULT_RATE, hangMs: 6000 },
  vars: { BACKEND_TIMEOUT_SECONDS: '3', RETRY_BASE_SECONDS: '1', MAX_ATTEMPTS: '8', POLL_INTERVAL_SECONDS: '1', RATE_LIMIT_PER_MINUTE: '100000' },
});
const key = await createKey(stack);
const results = [];
let crashed = false;
let next = 0;
const t0 = Date.now();
const client = async () => {
  for (let n = next++; n < JOBS; n = next++) {
    if (!crashed && n >= JOBS * Number(values['crash-after'])) {
      crashed = true;
      console.log(`loadtest: killing GPU worker 0 with SIGKILL after ${n} submissions, restarting it`);
      void stack.crashWorker(0);
    }
    try {
      results.push({ n, ...(await runJob(stack.edgeUrl, key, pngs, { formats: 'mini_npz', idempotencyKey: `load-${n}`, timeoutMs: 600_000 })) });
    } catch (error) {
      results.push({ n, error: error.message });
    }
    if (results.length % 100 === 0) console.log(`loadtest: ${results.length}/${JOBS} done (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
};
await Promise.all(Array.from({ length: CONCURRENCY }, client));
const seconds = (Date.now() - t0) / 1000;

// Invariants.
const ids = results.filter((r) => r.job).map((r) => r.job.id);
const byState = {};
for (const r of results) byState[r.job?.state ?? (r.timedOut ? 'timeout' : 'client-error')] = (byState[r.job?.state ?? (r.timedOut ? 'timeout' : 'client-error')] ?? 0) + 1;
const attempts = {};
for (const r of results) if (r.job) attempts[r.job.attempt] = (attempts[r.job.attempt] ?? 0) + 1;
const succeeded = results.filter((r) => r.job?.state === 'succeeded');
let downloadFailures = 0;
for (const r of succeeded.slice(0, 200)) {
  for (const f of r.job.result.files) {
    const res = await fetch(`${stack.edgeUrl}${f.url}`, { headers: { authorization: `Bearer ${key}` } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200 || bytes.length !== f.size) downloadFailures++;
  }
}
// A resubmission with the same idempotency key must return the same job (no duplicate run).
let duplicates = 0;
for (const r of results.slice(0, 50).filter((x) => x.job)) {
  const again = await fetch(`${stack.edgeUrl}/v1/jobs/${r.job.id}`, { headers: { authorization: `Bearer ${key}` } });
  if ((await again.json()).id !== r.job.id) duplicates++;
}
const latencies = succeeded.map((r) => r.ms).sort((a, b) => a - b);
const faults = stack.workers.map((w) => w.proxy.stats);
const report = {
  date: new Date().toISOString(),
  jobs: JOBS,
  concurrency: CONCURRENCY,
  faultRate: FAULT_RATE,
  workerCrashed: crashed,
  seconds,
  throughputJobsPerSecond: JOBS / seconds,
  byState,
  attempts,
  lost: JOBS - ids.length,
  duplicateIds: ids.length - new Set(ids).size + duplicates,
  downloadFailures,
  latencyMs: latencies.length ? { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) } : null,
  injectedFaults: faults,
};
await stack.stop();
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const out = join(root, 'bench', 'results', `edge-loadtest-${report.date.slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
console.log(`loadtest: report in ${out}`);
const nonTerminal = (byState.timeout ?? 0) + (byState['client-error'] ?? 0) + (byState.queued ?? 0) + (byState.running ?? 0);
if (report.lost || report.duplicateIds || downloadFailures || nonTerminal) {
  console.error('loadtest: FAILED — jobs lost, duplicated, not terminal, or with missing files');
  process.exit(1);
}
