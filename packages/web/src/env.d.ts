// Web-standard globals the web package uses (fetch, Blob, Response), declared minimally so the
// package type-checks without the DOM library (it also runs in workers and in Node for tests).
declare function fetch(input: string, init?: { method?: string; headers?: Record<string, string>; signal?: unknown }): Promise<WebResponse>;
interface WebResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}
declare class Blob {
  constructor(parts?: readonly (Uint8Array | ArrayBuffer | string)[], options?: { type?: string });
  readonly size: number;
  readonly type: string;
  slice(start?: number, end?: number): Blob;
  arrayBuffer(): Promise<ArrayBuffer>;
}
