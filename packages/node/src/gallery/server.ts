/**
 * The `da3 gallery` server: an index of the scenes under a folder and a three.js viewer per scene,
 * serving the scenes' files read-only. See {@link createGallery}.
 */
import { existsSync } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse, createServer } from 'node:http';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containedRealPath, isDirectory, isFile, lexicallyInside, requestPath, sendHtml, sendJson, serveFile } from '../http/files.js';
import { hostName } from '../http/host.js';
import { ASSET_PREFIX, indexPage, viewerPage } from './pages.js';
import { type SceneInfo, readSceneInfo } from './scene-info.js';

/**
 * The pages' Content-Security-Policy: scripts, styles, images and fetches from the gallery itself
 * only; no inline script or style, no plugins, no framing, no form posts.
 */
export const GALLERY_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers on every gallery response. */
const COMMON: OutgoingHttpHeaders = {
  'content-security-policy': GALLERY_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/** The pages' icon (a few dots in perspective). */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#15171c"/><circle cx="4" cy="11" r="1.6" fill="#6cb4ff"/><circle cx="8" cy="8" r="1.3" fill="#e6e8ee"/><circle cx="11.5" cy="5.5" r="1" fill="#ffb86c"/></svg>';

/** The viewer's files the gallery serves under `/_da3/`. */
const ASSETS = new Set(['viewer.js', 'viewer.css']);

/**
 * Where the built viewer (`viewer.js`, `viewer.css`) is: `dist/gallery/` of this package, found
 * from this module's location (it runs from `dist/`, `dist/cli/`, or `src/gallery/` in tests).
 */
export function galleryAssetsDir(): string | undefined {
  let here: string;
  try {
    here = dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
  for (const candidate of ['gallery', '../gallery', '../../dist/gallery', '../dist/gallery']) {
    const dir = resolve(here, candidate);
    if (existsSync(join(dir, 'viewer.js'))) return dir;
  }
  return undefined;
}

/** Options of {@link createGallery}. */
export interface GalleryOptions {
  /** Folder of the built viewer (default: `dist/gallery/` of this package). */
  readonly assetsDir?: string;
  /**
   * Host names the Host header may name (`da3 gallery` passes localhost, 127.0.0.1, ::1 and its
   * listen address); others get 403 (DNS rebinding). Default: any (`da3 gallery` sets it unless it
   * listens on a wildcard address).
   */
  readonly hosts?: ReadonlySet<string>;
}

/**
 * The `da3 gallery` server.
 *
 * - `/`: the scenes under `root` (folders holding `scene.glb`) with a thumbnail (`scene.jpg`, else
 *   `depth_vis/0000.jpg`), view and point counts, sizes and download links.
 * - `/<scene>/`: the three.js viewer of that scene (points, camera frustums, point size, fit view,
 *   view from a camera, the depth images).
 * - `/<scene>/<file>`: the scene's files, read-only (HEAD and Range too).
 * - `/_da3/viewer.js|css`: the viewer itself, bundled at build time (no CDN).
 *
 * A path that leaves `root` — by `..` or through a symlink whose real path is outside it — is
 * refused (403); a request target that is not a URL is a 400; a file that cannot be read answers
 * 403/500 for that request only, and the server keeps serving. Only GET and HEAD are answered
 * (405). Every response carries {@link GALLERY_CSP}.
 */
export function createGallery(root: string, options: GalleryOptions = {}): Server {
  const base = resolve(root);
  const wanted = options.assetsDir ?? galleryAssetsDir();
  const assets = wanted && existsSync(join(wanted, 'viewer.js')) ? wanted : undefined;
  const realBase = () => realpath(base).catch(() => base);

  const scenes = async (rb: string): Promise<SceneInfo[]> => {
    const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
    const names = entries
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && `/${d.name}/` !== ASSET_PREFIX)
      .map((d) => d.name)
      .sort();
    const found: SceneInfo[] = [];
    for (const name of names) {
      const dir = await containedRealPath(rb, join(base, name));
      if ('status' in dir) continue;
      const glb = await containedRealPath(rb, join(dir.path, 'scene.glb'));
      if ('path' in glb && (await isFile(glb.path))) found.push(await readSceneInfo(rb, dir.path, name));
    }
    return found;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (options.hosts && !options.hosts.has(hostName(req.headers.host) ?? '')) return sendJson(res, 403, { error: 'this Host is not allowed (see --allowed-hosts)' }, COMMON);
    const target = requestPath(req);
    if (!target) return sendJson(res, 400, { error: 'bad path' }, COMMON);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'only GET and HEAD' }, { ...COMMON, allow: 'GET, HEAD' });
    const { path } = target;
    const local = lexicallyInside(base, path);
    if (!local) return sendJson(res, 403, { error: 'outside the gallery' }, COMMON);
    if (path === '/' || path === '') return sendHtml(res, req, indexPage(basename(base) || base, await scenes(await realBase())), COMMON);
    if (path.startsWith(ASSET_PREFIX)) {
      const name = path.slice(ASSET_PREFIX.length);
      if (name === 'favicon.svg') {
        res.writeHead(200, { ...COMMON, 'content-type': 'image/svg+xml', 'content-length': Buffer.byteLength(FAVICON) });
        return void res.end(req.method === 'HEAD' ? undefined : FAVICON);
      }
      if (!assets || !ASSETS.has(name)) return sendJson(res, 404, { error: assets ? 'not found' : 'the gallery viewer is not built (npm run build -w @da3js/node)' }, COMMON);
      return serveFile(req, res, join(assets, name), COMMON);
    }
    const rb = await realBase();
    const found = await containedRealPath(rb, local);
    if ('status' in found) return sendJson(res, found.status, { error: found.status === 403 ? 'outside the gallery' : 'not found' }, COMMON);
    if (path.endsWith('/')) {
      // A scene folder: its viewer page. Other folders are not listed.
      const glb = await containedRealPath(rb, join(found.path, 'scene.glb'));
      if (!(await isDirectory(found.path)) || !('path' in glb) || !(await isFile(glb.path))) return sendJson(res, 404, { error: 'not found' }, COMMON);
      const name = path.split('/').filter(Boolean).join('/');
      return sendHtml(res, req, viewerPage(await readSceneInfo(rb, found.path, name), !!assets), COMMON);
    }
    if (await isDirectory(found.path)) {
      // `/<scene>` → `/<scene>/` (the viewer), so relative links resolve inside the scene.
      const glb = await containedRealPath(rb, join(found.path, 'scene.glb'));
      if ('path' in glb && (await isFile(glb.path))) {
        const location = `/${path.split('/').filter(Boolean).map(encodeURIComponent).join('/')}/`; // never `//host`
        res.writeHead(301, { ...COMMON, location, 'content-length': 0 });
        return void res.end();
      }
      return sendJson(res, 404, { error: 'not found' }, COMMON);
    }
    return serveFile(req, res, found.path, COMMON);
  };

  return createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) sendJson(res, 500, { error: (error as Error).message }, COMMON);
      else res.destroy();
    });
  });
}
