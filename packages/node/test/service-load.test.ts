/**
 * Load on one inference service with the tiny model (bounded, loopback): 200 jobs from 20
 * concurrent clients, each honouring 429 + Retry-After and resubmitting with its idempotency key.
 * Nothing may be lost or run twice; throughput, latency percentiles, 429s and peak RSS are printed
 * (the numbers in the closing note come from here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '@da3js/core/protocol';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';
import { DepthAnything3 } from '../src/model/depth-anything-3.js';
import { createInferenceService, serveInferenceService } from '../src/service/index.js';

const TOKEN = 'load-token-0123456789abcdef';
const json = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const work = mkdtempSync(join(tmpdir(), 'da3js-load-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const JOBS = 200;
const CONCURRENCY = 20;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

describe('inference service under load', () => {
  it(`${JOBS} jobs at concurrency ${CONCURRENCY}: every job succeeds exactly once; throughput, p50/p99, 429s, peak RSS`, async () => {
    const inputs = await loadTensors('tiny/multi/inputs.safetensors');
    const [, H, W] = inputs.image_u8.shape;
    const png = (await sharp(Buffer.from((inputs.image_u8.data as Uint8Array).subarray(0, H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()).toString('base64');
    const model = await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny'), { cacheDir: join(work, 'cache') });
    const service = await createInferenceService(model, { token: TOKEN, stateDir: join(work, 'state'), maxQueue: 16 });
    const serving = await serveInferenceService(service, { port: 0 });
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    let rejected = 0;
    let replays = 0;
    const latencies: number[] = [];
    const ids = new Map<number, string>();
    const t0 = Date.now();
    try {
      let next = 0;
      const client = async () => {
        for (let n = next++; n < JOBS; n = next++) {
          const started = Date.now();
          const body = JSON.stringify({ inputs: [{ data: png }], options: { processRes: 84 }, idempotencyKey: `load-${n}` });
          let job: Job | undefined;
          for (;;) {
            const res = await fetch(`${serving.url}/v1/jobs`, { method: 'POST', headers: json, body });
            if (res.status === 429) {
              rejected++;
              await res.body?.cancel();
              // Honour Retry-After, scaled down so the test stays short (it is an estimate anyway).
              await new Promise((ok) => setTimeout(ok, 100 * Number(res.headers.get('retry-after'))));
              continue;
            }
            expect([200, 202]).toContain(res.status);
            if (res.status === 200) replays++;
            job = (await res.json()) as Job;
            break;
          }
          ids.set(n, job.id);
          for (;;) {
            const state = (await (await fetch(`${serving.url}/v1/jobs/${job.id}`, { headers: json })).json()) as Job;
            if (state.state === 'succeeded') break;
            expect(['queued', 'running']).toContain(state.state);
            await new Promise((ok) => setTimeout(ok, 40));
          }
          latencies.push(Date.now() - started);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, client));
      const seconds = (Date.now() - t0) / 1000;
      latencies.sort((a, b) => a - b);
      expect(latencies).toHaveLength(JOBS);
      expect(new Set(ids.values()).size).toBe(JOBS); // one job per key, none lost
      expect(replays).toBe(0); // a 429 never created a job
      const metrics = service.metricsText();
      expect(metrics).toContain(`da3_jobs_finished_total{state="succeeded"} ${JOBS}`);
      expect(metrics).toContain(`da3_jobs_rejected_total ${rejected}`);
      console.log(
        `load: ${JOBS} jobs, concurrency ${CONCURRENCY}, maxQueue 16 — ${(JOBS / seconds).toFixed(1)} jobs/s over ${seconds.toFixed(1)} s; ` +
          `latency p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms; 429s ${rejected}; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
      );
    } finally {
      clearInterval(sampler);
      await serving.close();
      await model.dispose();
    }
  }, 240_000);
});
