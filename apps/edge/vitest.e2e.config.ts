import { defineProject } from 'vitest/config';

/** The edge end to end in Node: `wrangler dev` (local mode) + two GPU worker processes + a client (test-e2e/). */
export default defineProject({
  test: {
    name: 'edge-e2e',
    include: ['test-e2e/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
