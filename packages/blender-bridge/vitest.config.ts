import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'blender-bridge',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
