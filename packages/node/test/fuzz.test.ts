/**
 * The fuzz harness (scripts/fuzz) with a short, fixed budget: every target runs a fixed number of
 * inputs from a fixed seed, through the built packages, and must end each one in a result or a
 * Da3Error — no untyped error, no hang, no RSS blow-up. Every saved finding under
 * fuzz/regressions/ is replayed. `npm run fuzz -- --minutes N` runs the same targets for longer.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM JavaScript without type declarations
import { regressionInputs } from '../../../scripts/fuzz/cli.mjs';
// @ts-expect-error plain ESM JavaScript without type declarations
import { fuzzTarget, replayInputs } from '../../../scripts/fuzz/engine.mjs';
// @ts-expect-error plain ESM JavaScript without type declarations
import { createRng, generateInput } from '../../../scripts/fuzz/mutate.mjs';
// @ts-expect-error plain ESM JavaScript without type declarations
import { TARGETS } from '../../../scripts/fuzz/targets.mjs';

interface Finding {
  kind: string;
  index: number;
  error: string;
  stack?: string;
  input?: Uint8Array;
}

interface FuzzStats {
  target: string;
  inputs: number;
  ok: number;
  typedErrors: number;
  byCode: Record<string, number>;
  untyped: Finding[];
  hangs: Finding[];
  blowups: Finding[];
  rssStartMiB: number;
  rssPeakMiB: number;
  ms: number;
  report?: { status?: Record<string, number> };
}

const SEED = 20_251_205;

/** Inputs per target (each target takes about 1–2 s here, setup included) and the codes it must reach. */
const PLAN: Record<string, { iterations: number; codes: string[] }> = {
  safetensors: { iterations: 4000, codes: ['BAD_SAFETENSORS'] },
  config: { iterations: 400, codes: ['BAD_CONFIG'] },
  'onnx-metadata': { iterations: 1000, codes: ['UNKNOWN_FORMAT'] },
  ply: { iterations: 4000, codes: ['UNKNOWN_FORMAT'] },
  'gaussians-ply': { iterations: 4000, codes: ['UNKNOWN_FORMAT'] },
  npy: { iterations: 4000, codes: ['UNKNOWN_FORMAT', 'BAD_SHAPE'] },
  npz: { iterations: 4000, codes: ['UNKNOWN_FORMAT'] },
  colmap: { iterations: 4000, codes: ['IO', 'BAD_VALUE'] },
  image: { iterations: 800, codes: ['UNKNOWN_FORMAT'] },
  gallery: { iterations: 400, codes: [] },
};

function describeFindings(list: Finding[]): string {
  return list.map((f) => `${f.kind} @${f.index}: ${f.error}\n${f.stack ?? ''}`).join('\n\n');
}

function expectClean(stats: FuzzStats): void {
  expect(stats.untyped, describeFindings(stats.untyped)).toEqual([]);
  expect(stats.hangs, describeFindings(stats.hangs)).toEqual([]);
  expect(stats.blowups, describeFindings(stats.blowups)).toEqual([]);
  expect(stats.rssPeakMiB - stats.rssStartMiB).toBeLessThan(1024);
}

describe('fuzz harness', () => {
  it('covers every target, and the generator is deterministic', () => {
    expect(Object.keys(PLAN).sort()).toEqual(Object.keys(TARGETS).sort());
    const seeds = [new TextEncoder().encode('ply\nformat ascii 1.0\nelement vertex 1\nend_header\n')];
    const a = generateInput(seeds, 7, 123, {});
    expect(generateInput(seeds, 7, 123, {})).toEqual(a);
    expect([0, 1, 2, 3].map((i) => generateInput(seeds, 8, i, {}).bytes)).not.toEqual([0, 1, 2, 3].map((i) => generateInput(seeds, 7, i, {}).bytes));
    const r = createRng(1, 2);
    const draws = Array.from({ length: 1000 }, () => r.below(10));
    expect(new Set(draws).size).toBe(10);
  });

  it('the oracle catches untyped errors, hangs, RSS blow-ups and worker crashes, and goes on after each', async () => {
    const inputs = ['o', 't', 'u', 'h', 'o', 'm', 'o', 'c', 'o', 't'].map((c) => new TextEncoder().encode(c));
    const s: FuzzStats = await replayInputs('self-test', inputs, { hangMs: 1500, rssLimitMiB: 200 });
    expect([s.inputs, s.ok, s.typedErrors, s.byCode]).toEqual([7, 4, 2, { BAD_VALUE: 2 }]);
    expect(s.untyped.map((f) => [f.kind, f.index])).toEqual([
      ['untyped', 2],
      ['crash', 7],
    ]);
    expect(s.hangs.map((f) => f.index)).toEqual([3]);
    expect(s.blowups.map((f) => f.index)).toEqual([5]);
    expect(s.untyped[0].error).toBe('TypeError: self-test: untyped');
    expect([...s.hangs[0].input!]).toEqual([...inputs[3]]);
  });

  for (const [name, plan] of Object.entries(PLAN)) {
    it(`${name}: ${plan.iterations} mutated inputs end in a result or a Da3Error`, async () => {
      const stats: FuzzStats = await fuzzTarget(name, { seed: SEED, iterations: plan.iterations });
      expectClean(stats);
      expect(stats.inputs).toBe(plan.iterations);
      expect(stats.ok + stats.typedErrors).toBe(stats.inputs);
      // The fuzzer gets past the first checks: valid inputs run, and the validation code is reached.
      expect(stats.ok).toBeGreaterThan(0);
      if (name === 'gallery') {
        const status = stats.report?.status ?? {};
        for (const code of ['200', '400', '403', '404']) expect(status[code], `status ${code} in ${JSON.stringify(status)}`).toBeGreaterThan(0);
      } else {
        expect(stats.typedErrors).toBeGreaterThan(plan.iterations / 4);
        for (const code of plan.codes) expect(stats.byCode[code], `${code} in ${JSON.stringify(stats.byCode)}`).toBeGreaterThan(0);
      }
    });
  }

  it('every saved finding (fuzz/regressions/<target>/) replays to a result or a Da3Error', async () => {
    let total = 0;
    for (const name of Object.keys(TARGETS)) {
      const inputs: { file: string; bytes: Uint8Array }[] = regressionInputs(name);
      if (!inputs.length) continue;
      total += inputs.length;
      const stats: FuzzStats = await replayInputs(
        name,
        inputs.map((i) => i.bytes),
      );
      const named = (list: Finding[]) => list.map((f) => ({ ...f, file: inputs[f.index].file, input: undefined }));
      expect(named(stats.untyped)).toEqual([]);
      expect(named(stats.hangs)).toEqual([]);
      expect(named(stats.blowups)).toEqual([]);
      expect(stats.inputs).toBe(inputs.length);
    }
    expect(total).toBeGreaterThan(0);
  });
});
