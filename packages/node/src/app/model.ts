/**
 * The model and the app folder `da3 app` serves: a hub id resolved with the hub client (from the
 * cache when it is there; offline with `--local-files-only` / `HF_HUB_OFFLINE`), or a local folder
 * / `.safetensors` file; and the built web app, found at run time (packages never depend on apps
 * when they are built).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { Da3Error } from '@da3js/core';
import { isCommitHash, isRepoId, snapshotEtag } from '../hub/cache.js';
import { type ResolveModelOptions, resolveModelFiles } from '../hub/resolve.js';
import type { ServedModel, ServedModelFile } from './server.js';

/** The hint every "no app" error ends with. */
export const NO_APP = 'da3 app needs the built web app: run `npm run build -w @da3js/web-app` or pass --app-dir';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/**
 * The built app's folder: `appDir` when given (it must hold index.html), else the `dist/` of the
 * `@da3js/web-app` workspace package when it is installed and built.
 * @throws Da3Error `IO` saying how to build the app or pass `--app-dir`
 */
export function findAppDir(appDir: string | undefined, resolvePackage: (id: string) => string = createRequire(import.meta.url).resolve): string {
  if (appDir !== undefined) {
    const dir = resolve(appDir);
    if (!existsSync(join(dir, 'index.html'))) throw new Da3Error('IO', `--app-dir ${dir} holds no index.html. ${NO_APP}`);
    return dir;
  }
  let pkg: string;
  try {
    pkg = resolvePackage('@da3js/web-app/package.json');
  } catch {
    throw new Da3Error('IO', `${NO_APP} (the @da3js/web-app package is not installed here)`);
  }
  const dist = join(dirname(pkg), 'dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Da3Error('IO', `${NO_APP} (${dist}/index.html is missing)`);
  return dist;
}

/** A stable id of a local file (path, size, modification time). */
async function fileIdentity(path: string): Promise<string> {
  const real = await realpath(path);
  const st = await stat(real);
  return sha1(`${real}:${st.size}:${st.mtimeMs}`);
}

/** `local/<folder name>` made a valid repo id. */
function localRepoId(folder: string): string {
  const name = basename(folder)
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/--+|\.\.+/g, '-')
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
    .slice(0, 80);
  const id = `local/${name || 'model'}`;
  return isRepoId(id) ? id : 'local/model';
}

/**
 * The files to serve for `--model-dir`: config.json and model.safetensors with their ETags and the
 * commit. A hub id keeps its id, revision and commit, and the cache's blob names as ETags (the
 * sha256 of the weights, so a hub client downloading from `da3 app` verifies them); a local folder
 * is served as `local/<folder name>`, revision `main`, with ids made from the files' paths, sizes
 * and modification times.
 * @throws Da3Error `BAD_VALUE` for an ONNX graph (the app converts checkpoints), and every error of
 *   the hub client (`NOT_CACHED` offline, …)
 */
export async function resolveServedModel(idOrPath: string, options: ResolveModelOptions = {}): Promise<ServedModel> {
  const found = await resolveModelFiles(idOrPath, options);
  if (found.onnxPath !== undefined) {
    throw new Da3Error('BAD_VALUE', `da3 app serves a checkpoint (config.json + model.safetensors), which the app converts in the browser; ${found.onnxPath} is an ONNX graph`);
  }
  const files = new Map<string, ServedModelFile>();
  if (found.repo) {
    for (const [name, path, lfs] of [
      ['config.json', found.configPath, false],
      ['model.safetensors', found.weightsPath, true],
    ] as const) {
      files.set(name, { path, etag: (await snapshotEtag(path)) ?? (await fileIdentity(path)), lfs });
    }
    const commit = found.commit && isCommitHash(found.commit) ? found.commit : sha1(`${found.repo}@${[...files.values()].map((f) => f.etag).join(',')}`);
    return { repo: found.repo, revision: found.revision ?? 'main', commit, files };
  }
  files.set('config.json', { path: found.configPath, etag: await fileIdentity(found.configPath), lfs: false });
  files.set('model.safetensors', { path: found.weightsPath, etag: await fileIdentity(found.weightsPath), lfs: true });
  return { repo: localRepoId(dirname(found.weightsPath)), revision: 'main', commit: sha1([...files.values()].map((f) => f.etag).join(',')), files };
}
