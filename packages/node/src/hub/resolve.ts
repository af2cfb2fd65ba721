/**
 * The model hub client: a file of a Hugging Face repo → a verified local file in the cache, and a
 * model id or path → the files a DA3 model needs.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import {
  assertRealInside,
  blobPath,
  defaultHubCacheDir,
  envOffline,
  findCachedFile,
  isCommitHash,
  isRepoId,
  linkSnapshot,
  repoCache,
  snapshotEtag,
  validateHubIds,
  writeRef,
} from './cache.js';
import { Da3Error } from '@da3js/core';
import { HubError } from './errors.js';
import { ioError } from './fs.js';
import { LockLost, type RequestContext, type RetryOptions, aborted, acquireLock, downloadBlob, fetchMetadata, hubFileUrl, sha256File } from './http.js';

/** Progress of one file, with transformers.js's event names (`ready` is the model's, not the hub's). */
export type HubProgressEvent =
  | { readonly status: 'initiate' | 'download'; readonly name: string; readonly file: string }
  | { readonly status: 'progress'; readonly name: string; readonly file: string; readonly progress: number; readonly loaded: number; readonly total: number }
  | { readonly status: 'done'; readonly name: string; readonly file: string; readonly loaded: number; readonly total: number; readonly cached: boolean };

/** Options shared by {@link resolveHubFile} and {@link resolveModelFiles}. */
export interface HubOptions extends RetryOptions {
  /** Branch, tag or commit hash (default `main`). */
  readonly revision?: string;
  /** Hub base URL (default `$HF_ENDPOINT`, else `https://huggingface.co`). */
  readonly endpoint?: string;
  /** Bearer token for private/gated repos (default `$HF_TOKEN`); sent to the endpoint's origin only, never to the CDN. */
  readonly token?: string;
  /** Cache folder (default {@link defaultHubCacheDir}). */
  readonly cacheDir?: string;
  /** Never touch the network: the cache or a `NOT_CACHED` error (default: `HF_HUB_OFFLINE` set). */
  readonly localFilesOnly?: boolean;
  /**
   * Ask the hub whether the revision moved even when the file is cached (one HEAD request per
   * file). Default false: a cached branch/tag is used as is, with no request.
   */
  readonly refresh?: boolean;
  /** Re-hash a cached LFS blob against its sha256 before using it; a corrupt one is deleted and downloaded again (default false). */
  readonly verify?: boolean;
  readonly progress?: (event: HubProgressEvent) => void;
  /** Minimum time between two `progress` events of one file, in ms (default 100; the first and last are always sent). */
  readonly progressIntervalMs?: number;
  readonly signal?: AbortSignal;
}

/** Options of {@link resolveHubFile}. */
export interface HubFileOptions extends HubOptions {
  /** `owner/name`. */
  readonly repo: string;
  /** Path of the file inside the repo, e.g. `model.safetensors` or `onnx/model.onnx`. */
  readonly file: string;
}

/** Where a hub file landed. */
export interface HubFileResult {
  /** Absolute path: `<cacheDir>/models--<owner>--<name>/snapshots/<commit>/<file>`. */
  readonly path: string;
  /** The commit the revision resolved to (the revision itself when the server does not say). */
  readonly commit: string;
  readonly size: number;
  /** True when no byte was downloaded. */
  readonly cached: boolean;
}

function withDefaults(o: HubFileOptions) {
  return {
    revision: o.revision ?? 'main',
    endpoint: o.endpoint || process.env.HF_ENDPOINT || 'https://huggingface.co',
    token: o.token ?? (process.env.HF_TOKEN || undefined),
    cacheDir: resolve(o.cacheDir ?? defaultHubCacheDir()),
    localFilesOnly: o.localFilesOnly ?? envOffline(),
  };
}

function throttled(o: HubFileOptions, name: string, file: string) {
  const interval = o.progressIntervalMs ?? 100;
  let last = -Infinity;
  return (loaded: number, total: number | undefined, final: boolean) => {
    if (!o.progress) return;
    const now = Date.now();
    if (!final && last !== -Infinity && now - last < interval) return;
    last = now;
    const t = total ?? 0;
    o.progress({ status: 'progress', name, file, progress: t > 0 ? Math.min(100, (loaded / t) * 100) : 0, loaded, total: t });
  };
}

/**
 * Resolves one file of a hub repo to a local path, downloading it into the cache when needed.
 * See {@link fetchHubFile} for the details; this returns only the path.
 */
export async function resolveHubFile(options: HubFileOptions): Promise<string> {
  return (await fetchHubFile(options)).path;
}

/**
 * Resolves one file of a hub repo (`{endpoint}/{repo}/resolve/{revision}/{file}`) to a local file.
 *
 * - Cached (`refs/<revision>` → `snapshots/<commit>/<file>` exists): returned with no request
 *   (unless `refresh`), re-hashed first when `verify`.
 * - Otherwise one HEAD request gives the commit (`X-Repo-Commit`), the ETag (`X-Linked-Etag`, the
 *   sha256 of LFS files, else `ETag`) and the size (`X-Linked-Size`, else `Content-Length`); a blob
 *   already in the cache under that ETag is linked, else downloaded (from the CDN redirect target
 *   for LFS files) into `blobs/<etag>.incomplete` — resumed with a Range request when a partial
 *   file is there, size- and sha256-checked, renamed into place. One process downloads a blob at a
 *   time (`blobs/<etag>.lock`).
 * - On abort the `.incomplete` file stays for the next call to resume; the blob and snapshot
 *   paths never hold partial bytes.
 *
 * Progress: `initiate` → (`download` → `progress`… ) → `done` (with `cached`).
 * @throws {HubError} `BAD_VALUE`/`BAD_ID`; `IO` with reason `NOT_CACHED`, `REPO_NOT_FOUND`,
 *   `FILE_NOT_FOUND`, `REVISION_NOT_FOUND`, `UNAUTHORIZED`, `FORBIDDEN`, `HTTP`, `NETWORK`,
 *   `INTEGRITY`, `BAD_RESPONSE` or `ABORTED`
 */
export async function fetchHubFile(options: HubFileOptions): Promise<HubFileResult> {
  try {
    return await fetchHubFileUnchecked(options);
  } catch (error) {
    if (error instanceof Error && !(error instanceof Da3Error) && (error as NodeJS.ErrnoException).code) {
      const e = ioError('use the hub cache for', `${options.repo}/${options.file}`, error);
      throw new HubError('IO', 'FILESYSTEM', `hub: ${e.message}`, { repo: options.repo, file: options.file, revision: options.revision, cause: error });
    }
    throw error;
  }
}

async function fetchHubFileUnchecked(options: HubFileOptions): Promise<HubFileResult> {
  const { repo, file } = options;
  const { revision, endpoint, token, cacheDir, localFilesOnly } = withDefaults(options);
  validateHubIds(repo, file, revision);
  if (!/^https?:\/\/[^/]/i.test(endpoint) || !URL.canParse(endpoint)) {
    throw new HubError('BAD_VALUE', 'BAD_ID', `hub: endpoint "${endpoint}" is not an http(s) URL (the endpoint option or HF_ENDPOINT)`, { repo, file, revision });
  }
  const ctx: RequestContext = { repo, file, revision, endpoint, token, signal: options.signal };
  if (options.signal?.aborted) throw aborted(ctx);
  const c = repoCache(cacheDir, repo);
  const emit = options.progress;
  emit?.({ status: 'initiate', name: repo, file });

  if (!options.refresh || localFilesOnly) {
    const hit = await findCachedFile(c, revision, file);
    if (hit && (!options.verify || (await verifyCached(hit.path, c, ctx, localFilesOnly)))) {
      emit?.({ status: 'done', name: repo, file, loaded: hit.size, total: hit.size, cached: true });
      return { path: hit.path, commit: hit.commit, size: hit.size, cached: true };
    }
  }
  if (localFilesOnly) {
    throw new HubError(
      'IO',
      'NOT_CACHED',
      `hub: "${file}" of "${repo}" (revision "${revision}") is not in the cache ${cacheDir}, and localFilesOnly (or HF_HUB_OFFLINE) forbids downloading it. Run once with network access, or pass a local folder.`,
      { repo, file, revision },
    );
  }

  const url = hubFileUrl(endpoint, repo, revision, file);
  const meta = await fetchMetadata(url, ctx, options);
  if (meta.commit !== undefined && !isCommitHash(meta.commit)) {
    // The commit names a cache folder: a mirror must not choose paths (huggingface_hub's pointer-path rule).
    throw new HubError(
      'IO',
      'BAD_RESPONSE',
      `hub: ${url} answered X-Repo-Commit ${JSON.stringify(meta.commit.slice(0, 100))}, which is not a commit hash (40 hex digits); nothing was cached. Check the endpoint (HF_ENDPOINT).`,
      { repo, file, revision, url },
    );
  }
  const commit = meta.commit ?? revision;
  const etag = meta.etag ?? `url-${createHash('sha256').update(url).digest('hex').slice(0, 40)}`;
  const blob = blobPath(c, etag);
  const sha = /^[0-9a-f]{64}$/.test(etag) ? etag : undefined;

  let cached = await exists(blob);
  if (cached && options.verify && sha && (await sha256File(blob, options.signal)) !== sha) {
    await rm(blob, { force: true });
    cached = false;
  }
  if (!cached) {
    await mkdir(c.blobs, { recursive: true });
    await assertRealInside(c.root, blob);
    for (let takeovers = 0; ; takeovers++) {
      const lock = await acquireLock(`${blob}.lock`, ctx);
      try {
        if (await exists(blob)) {
          cached = true; // another caller finished it while we waited
        } else {
          emit?.({ status: 'download', name: repo, file });
          await downloadBlob(
            {
              url: meta.location,
              blob,
              expectedSize: meta.size,
              expectedSha256: sha,
              onProgress: throttled(options, repo, file),
              retries: options.retries,
              retryDelayMs: options.retryDelayMs,
              downloadTimeoutMs: options.downloadTimeoutMs,
              lockHeld: lock.held,
            },
            ctx,
          );
        }
        break;
      } catch (e) {
        // Another process took the lock over (ours looked stale): wait for it, then look again.
        if (!(e instanceof LockLost) || takeovers >= 3) throw e;
      } finally {
        await lock.release();
      }
    }
  }
  const path = await linkSnapshot(c, commit, file, blob);
  await writeRef(c, revision, commit);
  const size = (await stat(path)).size;
  emit?.({ status: 'done', name: repo, file, loaded: size, total: size, cached });
  return { path, commit, size, cached };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** True when a cached snapshot's blob still has its sha256; a corrupt blob is deleted (false). */
async function verifyCached(path: string, c: ReturnType<typeof repoCache>, ctx: RequestContext, offline: boolean): Promise<boolean> {
  const etag = await snapshotEtag(path);
  if (!etag || !/^[0-9a-f]{64}$/.test(etag)) return true; // not an LFS blob, or a copy: nothing to check against
  if ((await sha256File(path, ctx.signal)) === etag) return true;
  await rm(blobPath(c, etag), { force: true });
  if (offline) {
    throw new HubError('IO', 'INTEGRITY', `hub: the cached "${ctx.file}" of "${ctx.repo}" was corrupt (sha256 ≠ ${etag}) and was deleted; localFilesOnly forbids downloading it again.`, {
      repo: ctx.repo,
      file: ctx.file,
      revision: ctx.revision,
    });
  }
  return false;
}

/** Options of {@link resolveModelFiles}. */
export interface ResolveModelOptions extends HubOptions {
  /** A config.json to use instead of the one beside the weights (or of the repo's, which is then not downloaded). */
  readonly config?: string;
  /** Config file name in a repo or folder (default `config.json`). */
  readonly configFile?: string;
  /** Weights file name in a repo or folder (default `model.safetensors`). */
  readonly weightsFile?: string;
}

/** The files of a model: a safetensors checkpoint with its config, or a ready ONNX graph. */
export type ModelFileSet =
  | { readonly configPath: string; readonly weightsPath: string; readonly repo?: string; readonly revision?: string; readonly commit?: string; readonly onnxPath?: undefined }
  | { readonly onnxPath: string; readonly configPath?: undefined; readonly weightsPath?: undefined };

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

function looksLikePath(s: string): boolean {
  return isAbsolute(s) || s.startsWith('.') || s.startsWith('~') || s.includes('\\') || /\.(safetensors|onnx|json)$/i.test(s);
}

async function kindOf(p: string): Promise<'file' | 'dir' | undefined> {
  try {
    const st = await stat(p);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

function missing(message: string, path: string): HubError {
  return new HubError('IO', 'LOCAL_MISSING', message, { file: path });
}

/**
 * The files a DA3 model loads from, for:
 * - a `.onnx` file → `{ onnxPath }` (passed through);
 * - a `.safetensors` file → with `config.json` beside it (or `options.config`);
 * - a local folder → its `config.json` + `model.safetensors` (or `model.onnx` when it has no safetensors);
 * - a hub id `owner/name` → both files through {@link fetchHubFile} (config first; not fetched
 *   when `options.config` is given), plus `repo`, `revision` and the resolved `commit`.
 * A local path wins over a hub id of the same spelling.
 * @throws {HubError} `LOCAL_MISSING` for local paths, `BAD_ID` for neither path nor id, and every error of {@link fetchHubFile}
 */
export async function resolveModelFiles(idOrPath: string, options: ResolveModelOptions = {}): Promise<ModelFileSet> {
  if (typeof idOrPath !== 'string' || idOrPath.trim() === '') {
    throw new HubError('BAD_VALUE', 'BAD_ID', `resolveModelFiles: expected a hub id (owner/name) or a path, got ${JSON.stringify(idOrPath)}`);
  }
  const configFile = options.configFile ?? 'config.json';
  const weightsFile = options.weightsFile ?? 'model.safetensors';
  const local = resolve(expandHome(idOrPath));
  const kind = await kindOf(local);
  const configOverride = options.config ? resolve(expandHome(options.config)) : undefined;
  const needConfig = async (configPath: string, weightsPath: string) => {
    if ((await kindOf(configPath)) !== 'file') {
      throw missing(
        `resolveModelFiles: no config for ${weightsPath}: ${configPath} does not exist. Put the model's config.json beside the weights or pass the config option.`,
        configPath,
      );
    }
    return { configPath, weightsPath };
  };

  if (kind === 'file') {
    const ext = extname(local).toLowerCase();
    if (ext === '.onnx') return { onnxPath: local };
    if (ext === '.safetensors') return needConfig(configOverride ?? join(dirname(local), configFile), local);
    throw missing(`resolveModelFiles: ${local} is neither a .safetensors nor an .onnx file (nor a folder or hub id)`, local);
  }
  if (kind === 'dir') {
    const weights = join(local, weightsFile);
    if ((await kindOf(weights)) !== 'file') {
      const onnx = join(local, 'model.onnx');
      if ((await kindOf(onnx)) === 'file') return { onnxPath: onnx };
      throw missing(`resolveModelFiles: the folder ${local} has no ${weightsFile} (nor model.onnx)`, weights);
    }
    return needConfig(configOverride ?? join(local, configFile), weights);
  }
  if (looksLikePath(idOrPath)) throw missing(`resolveModelFiles: ${local} does not exist`, local);
  if (!isRepoId(idOrPath)) {
    throw new HubError('BAD_VALUE', 'BAD_ID', `resolveModelFiles: "${idOrPath}" is neither an existing path nor a hub id (owner/name)`, { repo: idOrPath });
  }

  const repo = idOrPath;
  const revision = options.revision ?? 'main';
  // The (small) config first: a wrong id or revision fails before the big download starts.
  const configPath = configOverride ?? (await fetchHubFile({ ...options, repo, file: configFile, revision })).path;
  const weights = await fetchHubFile({ ...options, repo, file: weightsFile, revision });
  return { configPath, weightsPath: weights.path, repo, revision, commit: weights.commit };
}
