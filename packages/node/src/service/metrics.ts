/**
 * The inference service's Prometheus metrics (text exposition format 0.0.4): queue depth, jobs by
 * state, finished jobs by state, a histogram of inference seconds and of whole-job seconds, and the
 * device the model runs on.
 */
import type { JobState } from '@da3js/core/protocol';

/** Upper bounds of the duration histograms, in seconds. */
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

class Histogram {
  readonly counts = new Array<number>(BUCKETS.length).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) this.counts[i]++;
  }

  /** Mean in seconds (undefined before the first observation). */
  mean(): number | undefined {
    return this.count ? this.sum / this.count : undefined;
  }

  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    for (const [i, le] of BUCKETS.entries()) lines.push(`${name}_bucket{le="${le}"} ${this.counts[i]}`);
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines.join('\n');
  }
}

/** Counters and histograms the service updates as jobs run. */
export class ServiceMetrics {
  readonly inference = new Histogram();
  readonly jobs = new Histogram();
  readonly finished: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0 };
  rejected = 0;

  /** The exposition text. */
  render(state: { queueDepth: number; byState: Record<JobState, number>; device: string | undefined }): string {
    const out = [
      '# HELP da3_queue_depth Jobs waiting to run.',
      '# TYPE da3_queue_depth gauge',
      `da3_queue_depth ${state.queueDepth}`,
      '# HELP da3_jobs Jobs the service holds, by state.',
      '# TYPE da3_jobs gauge',
      ...Object.entries(state.byState).map(([s, n]) => `da3_jobs{state="${s}"} ${n}`),
      '# HELP da3_jobs_finished_total Jobs that ended since the service started, by state.',
      '# TYPE da3_jobs_finished_total counter',
      ...(['succeeded', 'failed', 'canceled'] as const).map((s) => `da3_jobs_finished_total{state="${s}"} ${this.finished[s]}`),
      '# HELP da3_jobs_rejected_total Submissions refused because the queue was full or the service was stopping.',
      '# TYPE da3_jobs_rejected_total counter',
      `da3_jobs_rejected_total ${this.rejected}`,
      this.inference.render('da3_inference_seconds', 'Seconds of model inference (preprocess, network, postprocess) per job.'),
      this.jobs.render('da3_job_seconds', 'Seconds from a job starting to it ending.'),
      '# HELP da3_device_info The device inference runs on (1), once the model has run.',
      '# TYPE da3_device_info gauge',
    ];
    if (state.device) out.push(`da3_device_info{device="${state.device}"} 1`);
    return `${out.join('\n')}\n`;
  }
}
