/**
 * Serves an {@link InferenceService} over node:http (`@hono/node-server`), with request timeouts
 * against slow clients, and a graceful stop on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** Graceful stop: the service drains (see `InferenceService.shutdown`), then the server closes. */
  close(graceMs?: number): Promise<void>;
}

/** Listens on `host:port`; resolves once the socket is bound. */
export async function serveInferenceService(service: InferenceService, options: ServeOptions = {}): Promise<ServingService> {
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((ok, fail) => {
    const s = serve({ fetch: service.app.fetch, port: options.port ?? 8008, hostname: host }, () => ok(s as Server)) as Server;
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
    close(graceMs) {
      closing ??= (async () => {
        await service.shutdown(graceMs);
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
