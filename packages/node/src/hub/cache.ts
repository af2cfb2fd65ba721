/**
 * The on-disk layout of the hub cache — the same as huggingface_hub's, so a cache folder can be
 * shared with Python (`HF_HUB_CACHE`) in both directions:
 *
 * ```
 * <cacheDir>/models--<owner>--<name>/
 *   blobs/<etag>                  file contents; <etag> is the sha256 for LFS files, the git blob id otherwise
 *   blobs/<etag>.incomplete       a download in progress or interrupted (resumed with a Range request)
 *   blobs/<etag>.lock             held while one process downloads that blob
 *   refs/<revision>               the commit hash a branch or tag pointed at when last resolved
 *   snapshots/<commit>/<file>     relative symlink to ../../blobs/<etag> (hard link or copy where
 *                                 symlinks are not allowed)
 * ```
 */
import { copyFile, link, lstat, mkdir, readFile, readlink, realpath, rename, rm, stat, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { HubError } from './errors.js';
import { tempPathFor, writeFileAtomic } from './fs.js';

/**
 * The default hub cache folder: `$DA3_CACHE`, else huggingface_hub's (`$HF_HUB_CACHE`, else
 * `$HF_HOME/hub`) when either variable is set, else `~/.cache/da3js`.
 */
export function defaultHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DA3_CACHE) return resolve(env.DA3_CACHE);
  if (env.HF_HUB_CACHE) return resolve(env.HF_HUB_CACHE);
  if (env.HF_HOME) return resolve(env.HF_HOME, 'hub');
  return join(homedir(), '.cache', 'da3js');
}

/** True for huggingface_hub's offline switch (`HF_HUB_OFFLINE=1|true|yes|on`). */
export function envOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.HF_HUB_OFFLINE ?? '');
}

/** A full commit hash. */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

const REPO_PART = /^(?!.*(--|\.\.))[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;

/** True when `id` looks like a hub repo id (`owner/name` or `name`, huggingface_hub's rules). */
export function isRepoId(id: string): boolean {
  const parts = id.split('/');
  return parts.length <= 2 && id.length <= 96 && parts.every((p) => REPO_PART.test(p));
}

/** @throws {HubError} `BAD_VALUE` / `BAD_ID` for a malformed repo id, file or revision */
export function validateHubIds(repo: string, file: string, revision: string): void {
  if (typeof repo !== 'string' || !isRepoId(repo)) {
    throw new HubError('BAD_VALUE', 'BAD_ID', `hub: "${repo}" is not a repo id (expected "owner/name", letters, digits, "-", "_", ".")`, { repo });
  }
  const segs = typeof file === 'string' ? file.split('/') : [];
  if (segs.length === 0 || file.includes('\\') || segs.some((s) => s === '' || s === '.' || s === '..')) {
    throw new HubError('BAD_VALUE', 'BAD_ID', `hub: "${file}" is not a file path inside a repo (relative, "/"-separated, no "..")`, { repo, file });
  }
  const rsegs = typeof revision === 'string' ? revision.split('/') : [];
  if (rsegs.length === 0 || revision.includes('\\') || rsegs.some((s) => s === '' || s === '.' || s === '..')) {
    throw new HubError('BAD_VALUE', 'BAD_ID', `hub: "${revision}" is not a revision (branch, tag or commit hash)`, { repo, file, revision });
  }
}

/** The paths of one repo in the cache. */
export interface HubRepoCache {
  readonly root: string;
  readonly repoDir: string;
  readonly blobs: string;
  readonly refs: string;
  readonly snapshots: string;
}

/** `models--<owner>--<name>`, as huggingface_hub names model repos. */
export function repoFolderName(repo: string): string {
  return `models--${repo.split('/').join('--')}`;
}

export function repoCache(cacheDir: string, repo: string): HubRepoCache {
  const root = resolve(cacheDir);
  const repoDir = join(root, repoFolderName(repo));
  return { root, repoDir, blobs: join(repoDir, 'blobs'), refs: join(repoDir, 'refs'), snapshots: join(repoDir, 'snapshots') };
}

/** A file name for an ETag (it is one already when it is a hash; otherwise its sha-free form is escaped). */
export function blobName(etag: string): string {
  return /^[A-Za-z0-9._-]{1,128}$/.test(etag) && !etag.startsWith('.') ? etag : encodeURIComponent(etag).replace(/[%*]/g, '_').slice(0, 128);
}

function unsafePath(path: string, folder: string, why: string): HubError {
  return new HubError('IO', 'UNSAFE_PATH', `hub: refusing ${path}: ${why} ${folder}. A hub response or a cache file tried to reach outside the cache.`, { file: path });
}

/**
 * `folder/…segments`, checked lexically: the result must lie strictly inside `folder` (no `..`,
 * no absolute segment, no empty name), as huggingface_hub checks its pointer paths.
 * @throws {HubError} `IO` / `UNSAFE_PATH`
 */
export function containedPath(folder: string, ...segments: string[]): string {
  const path = join(folder, ...segments);
  const rel = relative(folder, path);
  if (segments.some((s) => s === '' || isAbsolute(s)) || rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw unsafePath(path, folder, 'it is not inside');
  }
  return path;
}

/** The real path of `p`: its nearest existing ancestor with symlinks resolved, plus the rest as written. */
async function realPathOf(p: string): Promise<string> {
  const rest: string[] = [];
  let probe = resolve(p);
  for (;;) {
    try {
      return join(await realpath(probe), ...rest.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const up = dirname(probe);
      if (up === probe) return resolve(p);
      rest.push(basename(probe));
      probe = up;
    }
  }
}

/**
 * Checks that `path` resolves — symlinks followed, as far as it exists — to a place inside the
 * real path of `root`. Used on every path the cache reads or writes, so a planted link or a
 * hostile name cannot lead outside it.
 * @throws {HubError} `IO` / `UNSAFE_PATH`
 */
export async function assertRealInside(root: string, path: string): Promise<void> {
  const [realRoot, real] = await Promise.all([realPathOf(root), realPathOf(path)]);
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw unsafePath(path, realRoot, `it resolves to ${real}, which is not inside`);
}

export function blobPath(c: HubRepoCache, etag: string): string {
  return containedPath(c.blobs, blobName(etag));
}

/**
 * `snapshots/<commit>/<file>`. `commit` must be a commit hash or a revision name the caller
 * validated (no `..`); the result is checked to stay inside `snapshots/<commit>/`.
 */
export function snapshotPath(c: HubRepoCache, commit: string, file: string): string {
  return containedPath(containedPath(c.snapshots, ...commit.split('/')), ...file.split('/'));
}

function refPath(c: HubRepoCache, revision: string): string {
  return containedPath(c.refs, ...revision.split('/'));
}

/**
 * The commit a revision resolves to from the cache alone, or undefined. A `refs/` file that does
 * not hold a commit hash (40 hex digits) is ignored, as if absent.
 */
export async function cachedCommit(c: HubRepoCache, revision: string): Promise<string | undefined> {
  if (isCommitHash(revision)) return revision;
  try {
    const ref = refPath(c, revision);
    await assertRealInside(c.root, ref);
    const commit = (await readFile(ref, 'utf8')).trim();
    if (isCommitHash(commit)) return commit;
  } catch (e) {
    if (e instanceof HubError) throw e;
    // no ref: fall through
  }
  // Servers without X-Repo-Commit: the snapshot folder is named after the revision itself.
  try {
    const dir = containedPath(c.snapshots, ...revision.split('/'));
    if ((await stat(dir)).isDirectory()) return revision;
  } catch (e) {
    if (e instanceof HubError) throw e;
    // not cached
  }
  return undefined;
}

/**
 * The cached file of `repo` at `revision`, without any network access (undefined when absent).
 * @throws {HubError} `UNSAFE_PATH` when the cached entry resolves outside the cache folder
 */
export async function findCachedFile(c: HubRepoCache, revision: string, file: string): Promise<{ path: string; commit: string; size: number } | undefined> {
  const commit = await cachedCommit(c, revision);
  if (!commit) return undefined;
  const path = snapshotPath(c, commit, file);
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path); // follows the symlink: a dangling link is "not cached"
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  await assertRealInside(c.root, path);
  return { path, commit, size: st.size };
}

/** The blob a snapshot entry links to (its name is the ETag), when it is a symlink. */
export async function snapshotEtag(snapshot: string): Promise<string | undefined> {
  try {
    if (!(await lstat(snapshot)).isSymbolicLink()) return undefined;
    return basename(await readlink(snapshot));
  } catch {
    return undefined;
  }
}

/** Points `snapshots/<commit>/<file>` at the blob (atomically replacing any previous entry). */
export async function linkSnapshot(c: HubRepoCache, commit: string, file: string, blob: string): Promise<string> {
  const snap = snapshotPath(c, commit, file);
  await assertRealInside(c.root, snap);
  await assertRealInside(c.root, blob);
  await mkdir(dirname(snap), { recursive: true });
  await assertRealInside(c.root, dirname(snap));
  const tmp = tempPathFor(snap);
  try {
    try {
      await symlink(relative(dirname(snap), blob).split(sep).join('/'), tmp);
    } catch {
      try {
        await link(blob, tmp);
      } catch {
        await copyFile(blob, tmp);
      }
    }
    await rename(tmp, snap);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new HubError('IO', 'BAD_RESPONSE', `hub: cannot link ${snap} to ${blob}: ${(cause as Error).message}`, { cause });
  }
  return snap;
}

/** Records that `revision` (a branch or tag) pointed at `commit`. */
export async function writeRef(c: HubRepoCache, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  if (!isCommitHash(commit)) throw unsafePath(commit, c.refs, 'a ref must hold a commit hash; not writing it to');
  const ref = refPath(c, revision);
  await assertRealInside(c.root, ref);
  await writeFileAtomic(ref, commit);
}
