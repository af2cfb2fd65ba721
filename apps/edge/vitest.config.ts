import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineProject } from 'vitest/config';

/**
 * The edge API's tests run inside workerd (miniflare) with the real bindings of wrangler.jsonc —
 * R2, Durable Objects, Queues and D1 as miniflare provides them. test/global-setup.ts starts two
 * real GPU workers (the tiny fixture model) in Node, behind a fault-injecting proxy.
 */
export default defineProject(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: './wrangler.jsonc' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: 'admin-token-0123456789abcdef',
            URL_SIGNING_KEY: 'url-signing-key-0123456789abcdef',
            WEBHOOK_SECRET: inject('webhookSecret'),
            WORKER_WEBHOOK_SECRET: inject('workerWebhookSecret'),
            GPU_BACKENDS: JSON.stringify(inject('backends')),
            POLL_INTERVAL_SECONDS: '0.2',
            FORWARD_INLINE_BYTES: String(64 * 1024 * 1024),
            // Nothing listens on PUBLIC_URL inside these tests: results are copied, completion is polled.
            OUTPUT_MODE: 'keep',
            WORKER_CALLBACKS: 'off',
          },
        },
      })),
    ],
    test: {
      name: 'edge',
      include: ['test/**/*.test.ts'],
      globalSetup: ['./test/global-setup.ts'],
      setupFiles: ['./test/apply-migrations.ts'],
      testTimeout: 60_000,
    },
  };
});
