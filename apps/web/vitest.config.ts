import { defineProject } from 'vitest/config';

/** The app's tests: unit tests of the pure modules (Node) and end-to-end tests in headless Chromium. */
export default defineProject({
  test: {
    name: 'web-app',
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
