/**
 * The fuzz worker (a `node:worker_threads` Worker started by engine.mjs). It runs one target over
 * inputs it generates itself from `(seed, iteration)` (`fuzz`), over given inputs (`replay`), or
 * only regenerates given iterations (`generate`, to save the input of a hang).
 *
 * Heartbeat: before and after each input it writes the input's index and bumps a sequence number
 * in shared memory (the watchdog in the main thread reads them even while this thread is stuck),
 * and it records the counters and the process RSS after each input there too. Untyped errors are
 * posted as they happen, with their input; an input after which the RSS is more than the limit
 * above the start stops the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isDa3Error } from '@da3js/core';
import { generateInput } from './mutate.mjs';
import { SELF_TEST_TARGETS, TARGETS } from './targets.mjs';
import { CODE_SLOTS, S } from './shared-layout.mjs';

const { mode, target: targetName, seed, from, to, budgetMs, inputs, indices, tmp, state: stateBuffer, rss: rssBuffer, rssStart, rssLimit } = workerData;
const state = new Int32Array(stateBuffer);
const rss = new Float64Array(rssBuffer);
const target = TARGETS[targetName] ?? SELF_TEST_TARGETS[targetName];
if (!target) throw new Error(`fuzz: unknown target ${targetName}`);

const ctx = { tmp };
const seeds = mode === 'replay' ? [] : await target.seeds(ctx);
if (mode !== 'replay' && (!Array.isArray(seeds) || seeds.length === 0)) throw new Error(`fuzz: target ${targetName} has no seeds`);

if (mode === 'generate') {
  const out = indices.map((i) => generateInput(seeds, seed, i, target.mutate).bytes);
  parentPort.postMessage({ type: 'generated', inputs: out });
} else {
  await target.setup?.(ctx);
  parentPort.postMessage({ type: 'ready' });
  Atomics.store(state, S.PHASE, 1);
  const codes = new Map();
  const signatures = new Map();
  const started = performance.now();
  const end = mode === 'replay' ? inputs.length : to;
  for (let i = from; i < end; i++) {
    if (mode === 'fuzz' && performance.now() - started > budgetMs) break;
    let bytes;
    let mutations;
    if (mode === 'replay') bytes = inputs[i];
    else ({ bytes, mutations } = generateInput(seeds, seed, i, target.mutate));
    Atomics.store(state, S.CURRENT, i);
    Atomics.add(state, S.SEQ, 1);
    try {
      await target.run(bytes, ctx);
      Atomics.add(state, S.OK, 1);
    } catch (error) {
      if (isDa3Error(error)) {
        Atomics.add(state, S.TYPED, 1);
        let slot = codes.get(error.code);
        if (slot === undefined) {
          slot = Math.min(codes.size, CODE_SLOTS - 1);
          codes.set(error.code, slot);
          parentPort.postMessage({ type: 'code', code: codes.size > CODE_SLOTS ? 'OTHER' : error.code, slot });
        }
        Atomics.add(state, S.CODES + slot, 1);
      } else {
        const e = /** @type {Error} */ (error);
        const text = `${e?.name ?? typeof e}: ${String(e?.message ?? e)}`;
        // The same bug found again only counts; its first inputs are kept.
        const sig = `${text.replace(/\d+/g, 'N').slice(0, 160)}|${String(e?.stack ?? '').split('\n')[1] ?? ''}`;
        const seen = signatures.get(sig) ?? 0;
        signatures.set(sig, seen + 1);
        parentPort.postMessage({
          type: 'finding',
          kind: 'untyped',
          index: i,
          error: text.slice(0, 2000),
          stack: String(e?.stack ?? '').split('\n').slice(0, 12).join('\n'),
          mutations,
          input: seen < 3 ? bytes.slice() : undefined,
        });
      }
    }
    Atomics.add(state, S.INPUTS, 1);
    Atomics.add(state, S.SEQ, 1);
    const r = process.memoryUsage.rss();
    if (r > rss[0]) rss[0] = r;
    if (r - rssStart > rssLimit) {
      // What this input left behind may never be freed: stop here, the engine starts afresh.
      const error = `RSS ${(r / 2 ** 20).toFixed(0)} MiB after this input, more than ${(rssLimit / 2 ** 20).toFixed(0)} MiB above the start`;
      parentPort.postMessage({ type: 'stop', kind: 'rss', index: i, error, mutations, input: bytes.slice() });
      Atomics.store(state, S.PHASE, 3);
      process.exit(0);
    }
  }
  Atomics.store(state, S.PHASE, 2);
  const report = target.report?.(ctx);
  await target.teardown?.(ctx);
  parentPort.postMessage({ type: 'done', report });
}
