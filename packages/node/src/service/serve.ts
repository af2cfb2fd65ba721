/**
 * Serves an {@link InferenceService} over node:http (`@hono/node-server`), with request timeouts
 * against slow clients, and a graceful stop on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JOB_PROTOCOL_VERSION } from '@da3js/core/protocol';
import { serve } from '@hono/node-server';
import type { InferenceService } from './service.js';

/** Options of {@link serveInferenceService}. */
export interface ServeOptions {
  /** Address to bind (default 127.0.0.1: reachable from this machine only). */
  readonly host?: string;
  /** Port (default 8008; 0 picks a free one). */
  readonly port?: number;
  /** A client that has not sent its request headers within this time is dropped (default 15 s). */
  readonly headersTimeoutMs?: number;
  /** A whole request (a big upload included) must arrive within this time (default 5 min). */
  readonly requestTimeoutMs?: number;
}

/** A listening service. */
export interface ServingService {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Resolves with the service once it is ready (at once when it was given ready). */
  readonly ready: Promise<InferenceService>;
  /** Graceful stop: the service drains (see `InferenceService.shutdown`), then the server closes. */
  close(graceMs?: number): Promise<void>;
}

/** Answers while the model loads: `/healthz` 200 `{ loading: true }`, everything else 503 + `Retry-After`. */
function loadingResponse(request: Request): Response {
  const path = new URL(request.url).pathname;
  if (path === '/healthz') return Response.json({ ok: true, loading: true, protocolVersion: JOB_PROTOCOL_VERSION, draining: false });
  return Response.json({ error: { code: 'LOADING', message: 'the model is still loading; retry shortly' }, ...(path === '/readyz' ? { ready: false } : {}) }, { status: 503, headers: { 'retry-after': '5' } });
}

/**
 * Listens on `host:port`; resolves once the socket is bound. Given a promise of the service (the
 * model still downloading or converting), the port opens at once: `/healthz` answers, `/readyz`
 * and the API answer 503 until the service is ready. If that promise rejects, every request
 * answers 503 `FAILED_TO_LOAD` with the reason (and `ready` rejects).
 */
export async function serveInferenceService(service: InferenceService | Promise<InferenceService>, options: ServeOptions = {}): Promise<ServingService> {
  const host = options.host ?? '127.0.0.1';
  let current: InferenceService | undefined = service instanceof Promise ? undefined : service;
  let failure: Error | undefined;
  const ready = Promise.resolve(service).then(
    (s) => {
      current = s;
      return s;
    },
    (error: Error) => {
      failure = error;
      throw error;
    },
  );
  ready.catch(() => undefined);
  const fetchHandler = (request: Request, env: unknown) => {
    if (current) return current.app.fetch(request, env);
    if (failure) return Response.json({ error: { code: 'FAILED_TO_LOAD', message: failure.message } }, { status: 503 });
    return loadingResponse(request);
  };
  const server = await new Promise<Server>((ok, fail) => {
    const s = serve({ fetch: fetchHandler as never, port: options.port ?? 8008, hostname: host }, () => ok(s as Server)) as Server;
    s.once('error', fail);
  });
  server.headersTimeout = options.headersTimeoutMs ?? 15_000;
  server.requestTimeout = options.requestTimeoutMs ?? 5 * 60_000;
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${port}`,
    port,
    server,
    ready,
    close(graceMs) {
      closing ??= (async () => {
        await current?.shutdown(graceMs);
        await new Promise<void>((ok) => {
          server.close(() => ok());
          server.closeIdleConnections();
        });
      })();
      return closing;
    },
  };
}

/** Resolves when the process gets SIGTERM or SIGINT (the caller then drains and exits). */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((ok) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      ok(signal);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
