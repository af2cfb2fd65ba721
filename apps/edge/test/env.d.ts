import type { D1Migration } from '@cloudflare/vitest-pool-workers';
import type { Env as EdgeEnv } from '../src/env.js';

declare module 'cloudflare:test' {
  interface ProvidedEnv extends EdgeEnv {
    readonly TEST_MIGRATIONS: D1Migration[];
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    backends: unknown[];
    webhookSecret: string;
    workerWebhookSecret: string;
    fixturePngs: string[];
    receiverUrl: string;
  }
}
