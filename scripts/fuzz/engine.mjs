/**
 * Runs one fuzz target in a `node:worker_threads` Worker under a watchdog.
 *
 * - The worker generates its inputs from `(seed, iteration)` (see mutate.mjs), or replays given
 *   inputs, and writes a heartbeat (input index + sequence number) into shared memory before and
 *   after each input.
 * - The watchdog (main thread) checks the heartbeat every 50 ms: an input that runs longer than
 *   `hangMs` is a hang — the worker is terminated, the input regenerated and recorded, and a fresh
 *   worker goes on with the next input. Process RSS more than `rssLimitMiB` above the start is a
 *   blow-up (same treatment; the worker also checks after each input); a worker that dies
 *   (uncaught error, out of memory) is a crash.
 * - Oracle: every input returns or throws `Da3Error`; anything else is a finding.
 *
 * ```js
 * const stats = await fuzzTarget('npz', { seed: 1, iterations: 2000 });
 * const again = await replayInputs('npz', [bytes]);
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { S, STATE_LENGTH } from './shared-layout.mjs';

const WORKER = new URL('./worker.mjs', import.meta.url);
const MiB = 2 ** 20;

/**
 * @typedef {object} Finding
 * @property {'untyped'|'crash'|'hang'|'rss'} kind
 * @property {number} index iteration (fuzz) or input index (replay)
 * @property {string} error
 * @property {string} [stack]
 * @property {string[]} [mutations]
 * @property {Uint8Array} [input] the input (kept for the first few of each kind of error)
 *
 * @typedef {object} FuzzStats
 * @property {string} target
 * @property {number} seed
 * @property {number} inputs inputs run to the end (returned or threw)
 * @property {number} ok
 * @property {number} typedErrors
 * @property {Record<string, number>} byCode
 * @property {Finding[]} untyped untyped errors and worker crashes
 * @property {Finding[]} hangs inputs that ran longer than hangMs
 * @property {Finding[]} blowups inputs during which RSS grew more than rssLimitMiB
 * @property {number} rssStartMiB
 * @property {number} rssPeakMiB
 * @property {number} restarts workers started after a hang, blow-up or crash
 * @property {number} ms wall time, setup included
 * @property {Record<string, unknown>} [report] the target's own counters
 */

/** Sums the numbers of two JSON-like reports, key by key. */
function mergeReports(a, b) {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = mergeReports(out[k], v);
    return out;
  }
  return b;
}

/**
 * One worker run from input `from`: resolves with what happened (finished, or stopped at an input
 * by a hang, blow-up or crash), after merging its counters into `stats`.
 */
function runWorker(job, stats, opts) {
  const stateBuffer = new SharedArrayBuffer(4 * STATE_LENGTH);
  const rssBuffer = new SharedArrayBuffer(8);
  const state = new Int32Array(stateBuffer);
  const tmp = mkdtempSync(join(tmpdir(), 'da3js-fuzz-'));
  const worker = new Worker(WORKER, {
    workerData: { ...job, tmp, state: stateBuffer, rss: rssBuffer, rssStart: stats.rssStartMiB * MiB, rssLimit: opts.rssLimitMiB * MiB },
    // A worker's stack is 4 MB by default, the main thread's about 1 MB: use the main thread's, so
    // that inputs which overflow the stack of a normal process overflow it here too.
    resourceLimits: { maxOldGenerationSizeMb: opts.heapLimitMiB, stackSizeMb: 1 },
    stdout: true,
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  const codeNames = [];
  let readyAt = 0;
  let report;
  return new Promise((resolve, reject) => {
    let stop;
    let lastSeq = -1;
    let lastChange = performance.now();
    const started = performance.now();
    const watchdog = setInterval(() => {
      const now = performance.now();
      const rssNow = process.memoryUsage.rss();
      stats.rssPeakMiB = Math.max(stats.rssPeakMiB, rssNow / MiB);
      const phase = Atomics.load(state, S.PHASE);
      if (phase === 0) {
        if (now - started > opts.setupMs) {
          stop = { kind: 'setup', error: `fuzz: target ${job.target} took more than ${opts.setupMs} ms to set up` };
          worker.terminate();
        }
        return;
      }
      if (phase !== 1) return;
      const seq = Atomics.load(state, S.SEQ);
      if (seq !== lastSeq) {
        lastSeq = seq;
        lastChange = now;
      }
      const running = seq % 2 === 1;
      const index = Atomics.load(state, S.CURRENT);
      if (running && rssNow / MiB - stats.rssStartMiB > opts.rssLimitMiB) {
        stop = { kind: 'rss', index, error: `RSS ${(rssNow / MiB).toFixed(0)} MiB, more than ${opts.rssLimitMiB} MiB above the start (${stats.rssStartMiB.toFixed(0)} MiB)` };
        worker.terminate();
      } else if (running && now - lastChange > opts.hangMs) {
        stop = { kind: 'hang', index, error: `no progress for ${opts.hangMs} ms on this input` };
        worker.terminate();
      }
    }, 50);
    worker.on('message', (m) => {
      if (m.type === 'ready') readyAt = performance.now();
      else if (m.type === 'code') codeNames[m.slot] = m.code;
      else if (m.type === 'finding') stats.untyped.push({ kind: m.kind, index: m.index, error: m.error, stack: m.stack, mutations: m.mutations, input: m.input });
      else if (m.type === 'done') report = m.report;
      else if (m.type === 'stop') stop = { kind: m.kind, index: m.index, error: m.error, mutations: m.mutations, input: m.input };
    });
    let crash;
    worker.on('error', (error) => {
      crash = error;
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      rmSync(tmp, { recursive: true, force: true });
      const phase = Atomics.load(state, S.PHASE);
      stats.inputs += Atomics.load(state, S.INPUTS);
      stats.ok += Atomics.load(state, S.OK);
      stats.typedErrors += Atomics.load(state, S.TYPED);
      codeNames.forEach((code, slot) => {
        const n = Atomics.load(state, S.CODES + slot);
        if (n) stats.byCode[code] = (stats.byCode[code] ?? 0) + n;
      });
      stats.rssPeakMiB = Math.max(stats.rssPeakMiB, new Float64Array(rssBuffer)[0] / MiB);
      stats.report = mergeReports(stats.report, report);
      const ranMs = readyAt ? performance.now() - readyAt : 0;
      if (stop?.kind === 'setup') return reject(new Error(stop.error));
      if (crash && phase === 0) return reject(new Error(`fuzz: target ${job.target} failed to set up: ${crash.stack ?? crash}`));
      if (stop) return resolve({ stoppedAt: stop.index, finding: stop, ranMs });
      if (crash || phase !== 2) {
        const index = Atomics.load(state, S.CURRENT);
        const error = crash ? `${crash.name}: ${crash.message}` : 'the worker exited without finishing';
        return resolve({ stoppedAt: index, finding: { kind: 'crash', index, error, stack: crash?.stack }, ranMs });
      }
      resolve({ ranMs });
    });
  });
}

/** Regenerates the inputs of the given iterations (in a worker: seeds may be costly). */
async function generateInputs(target, seed, indices) {
  const tmp = mkdtempSync(join(tmpdir(), 'da3js-fuzz-'));
  const worker = new Worker(WORKER, {
    workerData: { mode: 'generate', target, seed, indices, tmp, state: new SharedArrayBuffer(4 * STATE_LENGTH), rss: new SharedArrayBuffer(8) },
  });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', (m) => resolve(m.inputs));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`fuzz: generator worker exited (${code})`)));
    });
  } finally {
    await worker.terminate();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const DEFAULTS = { hangMs: 2000, rssLimitMiB: 1024, setupMs: 120_000, heapLimitMiB: 4096 };

function newStats(target, seed) {
  const rss = process.memoryUsage.rss() / MiB;
  return { target, seed, inputs: 0, ok: 0, typedErrors: 0, byCode: {}, untyped: [], hangs: [], blowups: [], rssStartMiB: rss, rssPeakMiB: rss, restarts: 0, ms: 0 };
}

function record(stats, finding) {
  if (finding.kind === 'hang') stats.hangs.push(finding);
  else if (finding.kind === 'rss') stats.blowups.push(finding);
  else stats.untyped.push(finding);
}

/**
 * Fuzzes one target: inputs `startIteration`, `startIteration + 1`, … until `iterations` inputs
 * or `ms` of fuzzing time (setup excluded), whichever comes first.
 *
 * @param {string} target a name from targets.mjs
 * @param {{ seed?: number, iterations?: number, ms?: number, startIteration?: number, hangMs?: number,
 *   rssLimitMiB?: number, setupMs?: number, heapLimitMiB?: number }} [options]
 * @returns {Promise<FuzzStats>}
 */
export async function fuzzTarget(target, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const seed = options.seed ?? 1;
  const t0 = performance.now();
  const stats = newStats(target, seed);
  const first = options.startIteration ?? 0;
  const end = options.iterations === undefined ? Number.MAX_SAFE_INTEGER : first + options.iterations;
  let budget = options.ms ?? Number.POSITIVE_INFINITY;
  if (!Number.isFinite(budget) && end === Number.MAX_SAFE_INTEGER) throw new Error('fuzzTarget: give iterations or ms');
  let from = first;
  for (;;) {
    const r = await runWorker({ mode: 'fuzz', target, seed, from, to: end, budgetMs: budget }, stats, opts);
    budget -= r.ranMs;
    if (!r.finding) break;
    // The worker is gone: regenerate the input that stopped it.
    r.finding.input ??= (await generateInputs(target, seed, [r.finding.index]))[0];
    record(stats, r.finding);
    from = r.stoppedAt + 1;
    if (from >= end || budget <= 0) break;
    stats.restarts++;
  }
  stats.ms = Math.round(performance.now() - t0);
  return stats;
}

/**
 * Runs the given inputs through a target under the same oracle (regression replay). Findings'
 * `index` is the position in `inputs`.
 *
 * @param {string} target
 * @param {Uint8Array[]} inputs
 * @param {{ hangMs?: number, rssLimitMiB?: number }} [options]
 * @returns {Promise<FuzzStats>}
 */
export async function replayInputs(target, inputs, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const t0 = performance.now();
  const stats = newStats(target, null);
  let from = 0;
  while (from < inputs.length) {
    const r = await runWorker({ mode: 'replay', target, inputs, from }, stats, opts);
    if (!r.finding) break;
    r.finding.input ??= inputs[r.finding.index];
    record(stats, r.finding);
    from = r.stoppedAt + 1;
    stats.restarts++;
  }
  stats.ms = Math.round(performance.now() - t0);
  return stats;
}
