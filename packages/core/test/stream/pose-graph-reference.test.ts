/**
 * optimizeSim3PoseGraph against the reference's own Sim3LoopOptimizer (testdata/stream-align/
 * posegraph.json, made by scripts/goldens/stream-align/make_posegraph_goldens.py: sim3loop.py with
 * pypose on CPU, float32).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSim3, optimizeSim3PoseGraph, sequentialToAbsolutePoses } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixtures.js';

interface Sim3Json {
  scale: number;
  rotation: number[];
  translation: number[];
}
interface Case {
  sequential: Sim3Json[];
  loops: { i: number; j: number; sim: Sim3Json }[];
  truth_sequential: Sim3Json[];
  optimized: Sim3Json[];
  cost_history: number[];
}
const golden = JSON.parse(readFileSync(join(REPO_ROOT, 'testdata', 'stream-align', 'posegraph.json'), 'utf8')) as {
  reference_commit: string;
  cases: Record<string, Case>;
};
const fromJson = (j: Sim3Json) => makeSim3(j.scale, j.rotation, j.translation);

function diff(a: { scale: number; rotation: ArrayLike<number>; translation: ArrayLike<number> }, b: Sim3Json): number {
  let m = Math.abs(a.scale - b.scale);
  for (let i = 0; i < 9; i++) m = Math.max(m, Math.abs(a.rotation[i] - b.rotation[i]));
  for (let i = 0; i < 3; i++) m = Math.max(m, Math.abs(a.translation[i] - b.translation[i]));
  return m;
}

describe(`optimizeSim3PoseGraph vs the reference's Sim3LoopOptimizer (${golden.reference_commit.slice(0, 10)}, pypose, float32)`, () => {
  for (const [name, c] of Object.entries(golden.cases)) {
    it(name, () => {
      const r = optimizeSim3PoseGraph(c.sequential.map(fromJson), c.loops.map((l) => ({ i: l.i, j: l.j, sim: fromJson(l.sim) })));
      // The initial cost is the same function of the same inputs (float32 in the reference).
      expect(Math.abs(r.costHistory[0] - c.cost_history[0])).toBeLessThanOrEqual(1e-5 * c.cost_history[0]);
      // The optimum: both runs end at the same stationary point, to the reference's float32 precision.
      const worst = Math.max(...r.transforms.map((s, k) => diff(s, c.optimized[k])));
      const finalRef = c.cost_history[c.cost_history.length - 1];
      console.log(`${name}: max |ours − reference| ${worst.toExponential(2)}, final cost ours ${r.finalCost.toExponential(6)} reference ${finalRef.toExponential(6)}`);
      expect(worst).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(r.finalCost - finalRef)).toBeLessThanOrEqual(1e-3 * finalRef);
      // And the chunk positions are closer to the truth than the drifting input's.
      const centres = (seq: { scale: number; rotation: ArrayLike<number>; translation: ArrayLike<number> }[]) =>
        sequentialToAbsolutePoses(seq.map((s) => makeSim3(s.scale, s.rotation, s.translation))).map((t) => t.translation);
      const truth = centres(c.truth_sequential);
      const err = (p: ArrayLike<number>[]) => Math.max(...p.map((t, k) => Math.hypot(t[0] - truth[k][0], t[1] - truth[k][1], t[2] - truth[k][2])));
      expect(err(centres(r.transforms))).toBeLessThan(err(centres(c.sequential)));
    });
  }
});
