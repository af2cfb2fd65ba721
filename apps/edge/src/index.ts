/**
 * apps/edge: the DA3 edge API on Cloudflare Workers. `fetch` serves the HTTP API (./app.ts), `queue`
 * consumes the dispatch and dead-letter queues (./dispatch.ts), `JobObject` is the Durable Object
 * holding one job each (./job-object.ts).
 */
import { createApp } from './app.js';
import { handleQueue } from './dispatch.js';
import type { DispatchMessage, Env } from './env.js';

export { JobObject } from './job-object.js';

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: (batch, env) => handleQueue(batch, env),
} satisfies ExportedHandler<Env, DispatchMessage>;
