/**
 * listImages / detectInput: the reference CLI's `ImagesHandler.process` (glob + sorted) and
 * `detect_input_type` (the `auto` command).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDa3Error } from '@da3js/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCodePoints, detectInput, listImages, splitExt } from '../src/input/index.js';

let root: string;
const p = (...parts: string[]) => join(root, ...parts);
function touch(...parts: string[]): void {
  writeFileSync(p(...parts), 'x');
}

async function rejects(promise: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isDa3Error(e), `expected a Da3Error ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
  if (re) expect((e as Error).message).toMatch(re);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'da3-input-list-'));
  mkdirSync(p('imgs'));
  for (const n of ['b.png', 'a.PNG', 'c.Png', 'img10.jpg', 'img2.jpg', '.hidden.png', 'notes.txt', 'Z.jpeg', 'w.webp', 'x.JPEG']) touch('imgs', n);
  mkdirSync(p('imgs', 'folder.png'));
  mkdirSync(p('imgs', 'sub'));
  touch('imgs', 'sub', 'd.png');
  mkdirSync(p('imgs', '.cache'));
  touch('imgs', '.cache', 'e.png');
  symlinkSync(p('imgs', 'b.png'), p('imgs', 'link.png'));
  symlinkSync(p('imgs', 'missing-target.png'), p('imgs', 'broken.png'));

  mkdirSync(p('colmap', 'images'), { recursive: true });
  mkdirSync(p('colmap', 'sparse'));
  mkdirSync(p('webp-only'));
  touch('webp-only', 'one.WEBP');
  mkdirSync(p('no-images'));
  touch('no-images', 'readme.md');
  touch('no-images', '.png'); // splitext('.png') has no extension
  mkdirSync(p('no-images', 'nested.png'));
  mkdirSync(p('images-only', 'images'), { recursive: true });
  touch('images-only', 'shot.tif');
  touch('clip.MP4');
  touch('photo.JPG');
  touch('scan.tiff');
  touch('model.glb');
  touch('..png');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('listImages', () => {
  it('globs *.ext and *.EXT, skips dot files and folders, sorts by code point like sorted()', async () => {
    const names = (await listImages(p('imgs'))).map((f) => f.slice(p('imgs').length + 1));
    expect(names).toEqual(['Z.jpeg', 'a.PNG', 'b.png', 'img10.jpg', 'img2.jpg', 'link.png', 'x.JPEG']);
  });

  it('takes extensions as an array (with or without dots) or the CLI string', async () => {
    const names = async (extensions: string[] | string) => (await listImages(p('imgs'), { extensions })).map((f) => f.slice(p('imgs').length + 1));
    expect(await names(['.PNG'])).toEqual(['a.PNG', 'b.png', 'link.png']);
    expect(await names(' webp , jpeg')).toEqual(['Z.jpeg', 'w.webp', 'x.JPEG']);
  });

  it('recursive lists sub-folders (not hidden ones), sorted by full path', async () => {
    const names = (await listImages(p('imgs'), { extensions: 'png', recursive: true })).map((f) => f.slice(p('imgs').length + 1));
    expect(names).toEqual(['a.PNG', 'b.png', 'link.png', 'sub/d.png']);
  });

  it('errors: no match → EMPTY_INPUT (as the reference raises), missing or not a folder → IO', async () => {
    await rejects(listImages(p('no-images')), 'EMPTY_INPUT', /no image files found in .*no-images.*\.png, \.jpg, \.jpeg/);
    await rejects(listImages(p('nope')), 'IO', /nope': no such file/);
    await rejects(listImages(p('photo.JPG')), 'IO', /not a directory/);
    await rejects(listImages(p('imgs'), { extensions: ' , ' }), 'BAD_VALUE');
  });
});

describe('detectInput (the reference auto command)', () => {
  it('files by extension, case-insensitive', async () => {
    expect(await detectInput(p('photo.JPG'))).toBe('image');
    expect(await detectInput(p('scan.tiff'))).toBe('image');
    expect(await detectInput(p('clip.MP4'))).toBe('video');
    await rejects(detectInput(p('model.glb')), 'UNKNOWN_FORMAT', /model\.glb.*extension '\.glb'.*supported inputs/);
    // splitext('..png') has no extension (Node's extname says '.png').
    await rejects(detectInput(p('..png')), 'UNKNOWN_FORMAT');
  });

  it('folders: images/ + sparse/ → colmap, else any image file inside → images', async () => {
    expect(await detectInput(p('colmap'))).toBe('colmap');
    expect(await detectInput(p('imgs'))).toBe('images');
    expect(await detectInput(p('webp-only'))).toBe('images');
    expect(await detectInput(p('images-only'))).toBe('images');
    await rejects(detectInput(p('no-images')), 'UNKNOWN_FORMAT', /folder without image files/);
    await rejects(detectInput(p('missing')), 'IO', /does not exist/);
  });
});

describe('helpers', () => {
  it('splitExt follows os.path.splitext', () => {
    const cases: [string, string][] = [
      ['a.png', '.png'],
      ['a.b.PNG', '.PNG'],
      ['.png', ''],
      ['..png', ''],
      ['x/.a.png', '.png'],
      ['a.', '.'],
      ['dir.d/file', ''],
      ['noext', ''],
    ];
    for (const [path, ext] of cases) expect(splitExt(path), path).toBe(ext);
  });

  it('compareCodePoints orders astral characters after U+FFxx, like Python', () => {
    const astral = 'a\u{1F600}.png';
    const bmpHigh = 'a\uFF21.png';
    expect(bmpHigh < astral).toBe(false); // JS compares UTF-16 units
    expect(compareCodePoints(bmpHigh, astral)).toBeLessThan(0);
    expect(['b', 'B', 'a', 'A', '_', '1'].sort(compareCodePoints)).toEqual(['1', 'A', 'B', '_', 'a', 'b']);
  });
});
