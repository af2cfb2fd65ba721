import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'gpu-worker',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
