/**
 * Folder listing and input-type detection, following the reference CLI (`cli.py`
 * `detect_input_type`, `services/input_handlers.py` `ImagesHandler`).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Da3Error } from '@da3js/core';
import { fsError } from './source.js';

/** File extensions `auto` detection treats as one image (the reference's `IMAGE_EXTENSIONS`). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.tiff', '.tif']);

/** File extensions `auto` detection treats as a video (the reference's `VIDEO_EXTENSIONS`). */
export const VIDEO_EXTENSIONS: readonly string[] = Object.freeze(['.mp4', '.avi', '.mov', '.mkv', '.flv', '.wmv', '.webm', '.m4v']);

/** Extensions {@link listImages} uses by default (the CLI's `--image-extensions png,jpg,jpeg`). */
export const DEFAULT_IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['png', 'jpg', 'jpeg']);

/** What an input path holds, as the reference's `auto` command decides it. */
export type InputKind = 'image' | 'images' | 'video' | 'colmap';

/**
 * The extension of a file name as Python's `os.path.splitext` returns it: from the last dot of
 * the last path component, except that leading dots do not start one (`.png` and `..png` have
 * none, unlike Node's `path.extname('..png')`). Includes the dot; `''` when there is none.
 */
export function splitExt(path: string): string {
  const base = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return '';
  for (let i = 0; i < dot; i++) if (base[i] !== '.') return base.slice(dot);
  return '';
}

/** Compares by Unicode code point, like Python's `sorted()` on `str` (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after every other BMP unit, as their code points do.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Options of {@link listImages}. */
export interface ListImagesOptions {
  /**
   * Extensions to keep, with or without the dot, as an array or the CLI's comma-separated string
   * (default `png, jpg, jpeg`). Like the reference's glob, a name matches when it ends with the
   * extension in lower case or in upper case (`.png`, `.PNG`; not `.Png`).
   */
  readonly extensions?: readonly string[] | string;
  /** Also list sub-folders (default `false`, like the reference). Hidden folders are skipped. */
  readonly recursive?: boolean;
}

/**
 * Lists the images of a folder like the reference's `ImagesHandler.process`: for each extension
 * the globs `*.ext` and `*.EXT`, hidden (dot) files skipped as glob skips them, duplicates
 * removed, then `sorted()` — by full path, in code-point order (so `B.png` < `a.png` and
 * `img10.png` < `img2.png`; no natural sort). Paths are `join(folder, name)`. Unlike glob, folders
 * whose names end in an extension are not listed (the reference would fail to load them).
 * @throws Da3Error `IO` (folder missing or unreadable), `EMPTY_INPUT` (no matching file, as the
 *   reference raises), `BAD_VALUE` (no extensions given)
 */
export async function listImages(folder: string, options: ListImagesOptions = {}): Promise<string[]> {
  const fn = 'listImages';
  const raw = options.extensions ?? DEFAULT_IMAGE_EXTENSIONS;
  const list = typeof raw === 'string' ? raw.split(',') : [...raw];
  const exts = [...new Set(list.map((e) => String(e).trim().toLowerCase()).filter((e) => e.length > 0))].map((e) =>
    e.startsWith('.') ? e : `.${e}`,
  );
  if (exts.length === 0) throw new Da3Error('BAD_VALUE', `${fn}: no image extensions given`);
  const suffixes = [...new Set(exts.flatMap((e) => [e, e.toUpperCase()]))];
  const st = await stat(folder).catch((e: unknown) => {
    throw fsError(fn, folder, e);
  });
  if (!st.isDirectory()) throw new Da3Error('IO', `${fn}: '${folder}' is not a directory`);

  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw fsError(fn, dir, e);
    }
    for (const ent of entries) {
      if (ent.name.startsWith('.')) continue;
      const path = join(dir, ent.name);
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) {
        if (options.recursive) await walk(path);
      } else if (isFile && suffixes.some((s) => ent.name.endsWith(s))) {
        found.push(path);
      }
    }
  };
  await walk(folder);
  if (found.length === 0) {
    throw new Da3Error('EMPTY_INPUT', `${fn}: no image files found in '${folder}' with extensions ${exts.join(', ')}`);
  }
  return found.sort(compareCodePoints);
}

async function statOrUndefined(path: string) {
  return stat(path).catch(() => undefined);
}

/**
 * Detects the input type like the reference's `auto` command (`detect_input_type`):
 * a file with an image extension → `image`, a video extension → `video` (case-insensitive, see
 * {@link IMAGE_EXTENSIONS}, {@link VIDEO_EXTENSIONS}); a folder with `images/` and `sparse/`
 * sub-folders → `colmap`; a folder with at least one image file directly inside → `images`.
 * Where the reference returns `"unknown"`, this throws.
 * @throws Da3Error `IO` (path does not exist), `UNKNOWN_FORMAT` (a file with another extension,
 *   or a folder without images)
 */
export async function detectInput(path: string): Promise<InputKind> {
  const fn = 'detectInput';
  const supported =
    'supported inputs: an image file (.png, .jpg, …), a folder of images, a video file (.mp4, .avi, …), or a COLMAP folder (with images/ and sparse/)';
  const st = await statOrUndefined(path);
  if (!st) throw new Da3Error('IO', `${fn}: '${path}' does not exist`);
  if (st.isFile()) {
    const ext = splitExt(path).toLowerCase();
    if (IMAGE_EXTENSIONS.includes(ext)) return 'image';
    if (VIDEO_EXTENSIONS.includes(ext)) return 'video';
    throw new Da3Error('UNKNOWN_FORMAT', `${fn}: cannot determine the input type of '${path}' (extension '${ext}'); ${supported}`);
  }
  if (st.isDirectory()) {
    const [images, sparse] = await Promise.all([statOrUndefined(join(path, 'images')), statOrUndefined(join(path, 'sparse'))]);
    if (images?.isDirectory() && sparse?.isDirectory()) return 'colmap';
    let names: string[];
    try {
      names = await readdir(path);
    } catch (e) {
      throw fsError(fn, path, e);
    }
    for (const name of names) {
      if (!IMAGE_EXTENSIONS.includes(splitExt(name).toLowerCase())) continue;
      if ((await statOrUndefined(join(path, name)))?.isFile()) return 'images';
    }
    throw new Da3Error('UNKNOWN_FORMAT', `${fn}: '${path}' is a folder without image files; ${supported}`);
  }
  throw new Da3Error('UNKNOWN_FORMAT', `${fn}: '${path}' is neither a file nor a folder; ${supported}`);
}
