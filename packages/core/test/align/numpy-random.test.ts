import { isDa3Error, numpyDefaultRng } from '@da3js/core';
import { describe, expect, it } from 'vitest';
import { loadTensors } from '../helpers/fixtures.js';

// Expected values printed by numpy 2.4 (`np.random.default_rng(seed)`), the same algorithm as the
// numpy 1.24 that recorded the fixture's `ransac_draws`:
//   np.random.PCG64(42).random_raw()                            → 0xc621fbcd16d92688
//   [r.choice(np.arange(N), size=k, replace=False) for _ in range(3)], r = default_rng(seed)
const CHOICES: Array<{ n: number; k: number; seed: number; rows: number[][] }> = [
  { n: 10, k: 5, seed: 42, rows: [[5, 3, 7, 0, 4], [7, 0, 3, 9, 6], [4, 5, 3, 8, 1]] },
  { n: 13, k: 7, seed: 0, rows: [[12, 0, 2, 4, 3, 7, 5], [11, 6, 12, 4, 9, 5, 7], [0, 9, 7, 2, 6, 3, 1]] },
  {
    n: 40,
    k: 20,
    seed: 7,
    rows: [
      [9, 19, 13, 15, 17, 6, 37, 1, 18, 8, 29, 30, 38, 0, 21, 27, 14, 22, 20, 4],
      [29, 24, 37, 33, 13, 31, 38, 32, 3, 36, 17, 4, 10, 20, 34, 23, 16, 1, 22, 30],
      [37, 25, 6, 28, 35, 16, 20, 33, 12, 22, 24, 14, 13, 3, 27, 21, 5, 39, 9, 1],
    ],
  },
  { n: 3, k: 3, seed: 1, rows: [[0, 1, 2], [0, 1, 2], [1, 0, 2]] },
];

describe('numpyDefaultRng (bit-exact numpy default_rng / Generator.choice)', () => {
  it('first raw PCG64 output for seed 42', () => {
    expect(numpyDefaultRng(42).nextUint64()).toBe(0xc621fbcd16d92688n);
  });

  it('reproduces the fixture’s recorded RANSAC draws (default_rng(42).choice(12, 6, replace=False) × 10)', async () => {
    const out = await loadTensors('geometry/umeyama_sim3/outputs.safetensors');
    const want = Array.from(out.ransac_draws.data as BigInt64Array, Number);
    const rng = numpyDefaultRng(42);
    const got: number[] = [];
    for (let i = 0; i < 10; i++) got.push(...rng.choiceWithoutReplacement(12, 6));
    expect(got).toEqual(want);
  });

  it.each(CHOICES)('choice($n, $k) with seed $seed matches numpy', ({ n, k, seed, rows }) => {
    const rng = numpyDefaultRng(seed);
    for (const row of rows) expect(Array.from(rng.choiceWithoutReplacement(n, k))).toEqual(row);
  });

  it('rejects a negative seed and an oversized sample with BAD_VALUE', () => {
    for (const fn of [() => numpyDefaultRng(-1), () => numpyDefaultRng(1).choiceWithoutReplacement(3, 4)]) {
      try {
        fn();
        expect.fail('no error');
      } catch (e) {
        expect(isDa3Error(e, 'BAD_VALUE')).toBe(true);
      }
    }
  });
});
