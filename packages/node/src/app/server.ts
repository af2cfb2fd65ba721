/**
 * The `da3 app` server: the built in-browser app (apps/web's `dist/`) and one local model, from one
 * origin on localhost. See {@link createAppServer}.
 */
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { containedRealPath, isDirectory, isFile, lexicallyInside, requestPath, sendJson, serveFile } from '../http/files.js';
import { allowedHostNames, hostName } from '../http/host.js';

/** One file of the served model. */
export interface ServedModelFile {
  /** Where it is on disk. */
  readonly path: string;
  /** Its ETag (unquoted): the sha256 for LFS files (as the hub's `X-Linked-Etag`), else any stable id. */
  readonly etag: string;
  /** True for LFS files (the weights): `X-Linked-Etag` / `X-Linked-Size` are sent, as the hub does. */
  readonly lfs: boolean;
}

/** The model `da3 app` serves in the hub's layout. */
export interface ServedModel {
  /** `owner/name`. */
  readonly repo: string;
  /** The revision asked for (`main`). */
  readonly revision: string;
  /** 40-hex commit (`X-Repo-Commit`); `/<repo>/resolve/<commit>/…` works too. */
  readonly commit: string;
  /** File name in the repo (`config.json`, `model.safetensors`) → file. */
  readonly files: ReadonlyMap<string, ServedModelFile>;
}

/** Options of {@link createAppServer}. */
export interface AppServerOptions {
  /** The built app (holds `index.html`). */
  readonly appDir: string;
  readonly model?: ServedModel;
  /** The address the server listens on: also accepted as a Host header (unless a wildcard). */
  readonly host?: string;
  /** More host names accepted in the Host header (a LAN name or address when listening on 0.0.0.0). */
  readonly allowedHosts?: readonly string[];
}

/** Cross-origin isolation (WASM threads need SharedArrayBuffer), and nothing for other sites. */
const COMMON: OutgoingHttpHeaders = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

/** The hub's error answer (`X-Error-Code` as huggingface.co sends it). */
function hubError(res: ServerResponse, code: 'RepoNotFound' | 'RevisionNotFound' | 'EntryNotFound', message: string): void {
  sendJson(res, 404, { error: message }, { ...COMMON, 'x-error-code': code, 'x-error-message': message });
}

/**
 * The `da3 app` server (GET and HEAD only, on localhost):
 *
 * - `/<repo>/resolve/<revision|commit>/<file>`: the model's files in the Hugging Face hub's HTTP
 *   layout — `X-Repo-Commit`, `ETag` (and `X-Linked-Etag` / `X-Linked-Size` for the weights),
 *   `Range` (206/416) — so the app's hub code, or any hub client, can use this origin as its
 *   endpoint. Other repos, revisions or files: 404 with the hub's `X-Error-Code`.
 * - `/` (no query): a redirect to `/?endpoint=<this origin>&model=<repo>`, the app's URL parameters.
 * - anything else: the app's files, read-only, with the gallery's containment (a path or symlink
 *   leading outside the app folder is 403; folders are not listed).
 *
 * Every answer carries COOP/COEP (cross-origin isolation, for WASM threads) and
 * `Cross-Origin-Resource-Policy: same-origin`. A Host header that is not localhost, 127.0.0.1,
 * [::1], `host` or one of `allowedHosts` is refused (403: DNS rebinding), as is a request another
 * site's page makes with `fetch` (`Sec-Fetch-Site: cross-site`, navigations excepted).
 */
export function createAppServer(options: AppServerOptions): Server {
  const base = resolve(options.appDir);
  const hosts = allowedHostNames(options.host, options.allowedHosts);
  const model = options.model;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const host = hostName(req.headers.host);
    if (!host || !hosts.has(host)) return sendJson(res, 403, { error: `Host "${String(req.headers.host ?? '').slice(0, 100)}" is not allowed (da3 app answers localhost only; see --allowed-hosts)` }, COMMON);
    if (req.headers['sec-fetch-site'] === 'cross-site' && req.headers['sec-fetch-mode'] !== 'navigate') return sendJson(res, 403, { error: 'cross-site request refused' }, COMMON);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'only GET and HEAD' }, { ...COMMON, allow: 'GET, HEAD' });
    const target = requestPath(req);
    if (!target) return sendJson(res, 400, { error: 'bad path' }, COMMON);
    const { path, search } = target;

    const hub = /^\/([^/]+\/[^/]+)\/resolve\/(.+)$/.exec(path);
    if (hub) {
      if (!model || hub[1] !== model.repo) return hubError(res, 'RepoNotFound', `repository "${hub[1]}" is not served here${model ? ` (this server has ${model.repo})` : ''}`);
      const revision = [model.revision, model.commit, 'main'].find((r) => hub[2].startsWith(`${r}/`));
      if (!revision) return hubError(res, 'RevisionNotFound', `revision not found in ${model.repo} (this server has ${model.revision}, ${model.commit})`);
      const name = hub[2].slice(revision.length + 1);
      const file = model.files.get(name);
      if (!file) return hubError(res, 'EntryNotFound', `"${name}" is not served from ${model.repo} (${[...model.files.keys()].join(', ')})`);
      const headers: OutgoingHttpHeaders = { ...COMMON, 'x-repo-commit': model.commit, etag: `"${file.etag}"` };
      if (file.lfs) {
        headers['x-linked-etag'] = `"${file.etag}"`;
        try {
          headers['x-linked-size'] = (await stat(file.path)).size;
        } catch {
          return hubError(res, 'EntryNotFound', `"${name}" is gone from disk`);
        }
      }
      return serveFile(req, res, file.path, headers);
    }

    if (path === '/' && search === '' && model) {
      const origin = `http://${req.headers.host}`;
      const location = `/?endpoint=${encodeURIComponent(origin)}&model=${encodeURIComponent(model.repo)}`;
      res.writeHead(302, { ...COMMON, location, 'content-length': 0 });
      return void res.end();
    }
    const local = lexicallyInside(base, path.endsWith('/') ? `${path}index.html` : path);
    if (!local) return sendJson(res, 403, { error: 'outside the app' }, COMMON);
    const realBase = await realpath(base).catch(() => base);
    const found = await containedRealPath(realBase, local);
    if ('status' in found) return sendJson(res, found.status, { error: found.status === 403 ? 'outside the app' : 'not found' }, COMMON);
    if ((await isDirectory(found.path)) || !(await isFile(found.path))) return sendJson(res, 404, { error: 'not found' }, COMMON); // no listings
    return serveFile(req, res, found.path, COMMON);
  };

  return createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) sendJson(res, 500, { error: (error as Error).message }, COMMON);
      else res.destroy();
    });
  });
}

/** The app's URL for a model: `<origin>/?endpoint=<origin>&model=<repo>`. */
export function appUrl(origin: string, model?: ServedModel): string {
  return model ? `${origin}/?endpoint=${encodeURIComponent(origin)}&model=${encodeURIComponent(model.repo)}` : `${origin}/`;
}
