/**
 * What the gallery's index says about a scene, read from the files themselves: the GLB's JSON
 * chunk (points = the POSITION count of its POINTS primitives, cameras = its LINES wireframes —
 * the layout of @da3js/exporters' `scene.glb`), the depth images, and every file with its size.
 * Only files whose real path lies inside the gallery are read or listed.
 */
import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { containedRealPath, isFile } from '../http/files.js';

/** Largest GLB JSON chunk the index reads (the exporters' is a few KB). */
const MAX_JSON_BYTES = 4 * 2 ** 20;
/** Files listed per scene, at most. */
const MAX_FILES = 500;
/** Folder depth listed inside a scene. */
const MAX_DEPTH = 4;

const GL_POINTS = 0;
const GL_LINES = 1;

/** Counts from a GLB's JSON chunk. */
export interface GlbCounts {
  /** Vertices of POINTS primitives. */
  readonly points: number;
  /** LINES meshes (the camera wireframes). */
  readonly cameras: number;
}

/** Counts of a parsed glTF JSON document (see the module comment). */
export function glbCountsOf(json: unknown): GlbCounts {
  const doc = json as { meshes?: { primitives?: { mode?: number; attributes?: { POSITION?: number } }[] }[]; accessors?: { count?: number }[] };
  let points = 0;
  let cameras = 0;
  for (const mesh of Array.isArray(doc.meshes) ? doc.meshes : []) {
    const prims = Array.isArray(mesh?.primitives) ? mesh.primitives : [];
    if (prims.length > 0 && prims.every((p) => p?.mode === GL_LINES)) cameras++;
    for (const p of prims) {
      if ((p?.mode ?? 4) !== GL_POINTS) continue;
      const count = doc.accessors?.[p.attributes?.POSITION ?? -1]?.count;
      if (typeof count === 'number' && Number.isFinite(count)) points += count;
    }
  }
  return { points, cameras };
}

/** The counts of a `.glb` file, or undefined when it is not a readable GLB. */
export async function readGlbCounts(path: string): Promise<GlbCounts | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    if (!(await handle.stat()).isFile()) return undefined;
    const head = Buffer.alloc(20);
    const { bytesRead } = await handle.read(head, 0, 20, 0);
    if (bytesRead < 20 || head.toString('latin1', 0, 4) !== 'glTF' || head.readUInt32LE(4) !== 2) return undefined;
    const length = head.readUInt32LE(12);
    if (head.readUInt32LE(16) !== 0x4e4f534a || length > MAX_JSON_BYTES) return undefined; // 'JSON'
    const text = Buffer.alloc(length);
    if ((await handle.read(text, 0, length, 20)).bytesRead < length) return undefined;
    return glbCountsOf(JSON.parse(text.toString('utf8')));
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** One file of a scene. */
export interface SceneFile {
  /** Path inside the scene folder, `/`-separated. */
  readonly name: string;
  readonly size: number;
}

/** What the index and the viewer page show of one scene. */
export interface SceneInfo {
  /** Folder name (relative to the gallery root). */
  readonly name: string;
  /** `scene.jpg`, else `depth_vis/0000.jpg`, when present. */
  readonly thumbnail?: string;
  /** The depth images (`depth_vis/*.jpg|png`), sorted. */
  readonly depthImages: readonly string[];
  /** GLB counts (undefined: the GLB could not be read). */
  readonly glb?: GlbCounts;
  /** Views: the GLB's cameras, else the number of depth images. */
  readonly views: number;
  readonly files: readonly SceneFile[];
  readonly totalBytes: number;
  /** True when the file list was cut at {@link MAX_FILES}. */
  readonly truncated: boolean;
}

/** The files of a scene folder (plain files whose real path is inside the gallery; no dot-files). */
async function listFiles(realBase: string, dir: string, prefix: string, depth: number, out: SceneFile[]): Promise<boolean> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // dot-files, and the exporters' staging folders
    const path = join(dir, e.name);
    const found = await containedRealPath(realBase, path);
    if ('status' in found) continue;
    if (e.isDirectory()) {
      if (depth < MAX_DEPTH && (await listFiles(realBase, path, `${prefix}${e.name}/`, depth + 1, out))) return true;
      continue;
    }
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    try {
      const st = await stat(found.path);
      if (!st.isFile()) continue;
      out.push({ name: `${prefix}${e.name}`, size: st.size });
    } catch {
      continue;
    }
    if (out.length >= MAX_FILES) return true;
  }
  return false;
}

/**
 * Reads a scene folder (`sceneDir` = the real path of `<root>/<name>`, already checked to be inside
 * `realBase`).
 */
export async function readSceneInfo(realBase: string, sceneDir: string, name: string): Promise<SceneInfo> {
  const files: SceneFile[] = [];
  const truncated = await listFiles(realBase, sceneDir, '', 0, files);
  const names = new Set(files.map((f) => f.name));
  const depthImages = files.map((f) => f.name).filter((f) => /^depth_vis\/[^/]+\.(jpe?g|png)$/i.test(f));
  const thumbnail = ['scene.jpg', 'depth_vis/0000.jpg'].find((f) => names.has(f));
  const glbPath = await containedRealPath(realBase, join(sceneDir, 'scene.glb'));
  const glb = 'path' in glbPath && (await isFile(glbPath.path)) ? await readGlbCounts(glbPath.path) : undefined;
  return {
    name,
    thumbnail,
    depthImages,
    glb,
    views: glb?.cameras || depthImages.length,
    files,
    totalBytes: files.reduce((s, f) => s + f.size, 0),
    truncated,
  };
}
