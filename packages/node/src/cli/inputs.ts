import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Da3Error, type ImageU8 } from '@da3js/core';
import { colmapToCameras, readColmap } from '@da3js/exporters';
import { type InputKind, decodeImage, detectInput, extractVideoFrames, listImages } from '../input/index.js';
import type { CliArgs } from './args.js';

/** What a CLI command feeds the model. */
export interface CliInputs {
  readonly kind: InputKind;
  readonly images: ImageU8[];
  readonly names: string[];
  readonly sizes: [number, number][];
  readonly extrinsics?: Float32Array;
  readonly intrinsics?: Float32Array[];
}

/** How collecting inputs is watched and stopped. */
export interface CollectOptions {
  readonly signal?: AbortSignal;
  /** Called as each image is decoded (`done` of `total`). */
  readonly onDecoded?: (done: number, total: number) => void;
}

async function decodeAll(paths: string[], args: CliArgs, options: CollectOptions): Promise<Pick<CliInputs, 'images' | 'names' | 'sizes'>> {
  if (paths.length === 0) throw new Da3Error('EMPTY_INPUT', `no images found (extensions: ${args.imageExtensions.join(', ')})`);
  let done = 0;
  const images = await Promise.all(
    paths.map(async (p) => {
      const image = await decodeImage(p, { applyExifOrientation: args.applyExifOrientation, signal: options.signal });
      options.onDecoded?.(++done, paths.length);
      return image;
    }),
  );
  return { images, names: paths.map((p) => basename(p)), sizes: images.map((i) => [i.width, i.height]) };
}

/** Resolves the command's input into images (and cameras for COLMAP folders). */
export async function collectInputs(args: CliArgs, options: CollectOptions = {}): Promise<CliInputs> {
  const input = args.input!;
  if (!existsSync(input)) throw new Da3Error('IO', `input not found: ${input}`);
  let kind: InputKind = args.command === 'auto' ? await detectInput(input) : (args.command as InputKind);
  if (args.command === 'images') kind = 'images';
  if (kind === 'image') return { kind, ...(await decodeAll([input], args, options)) };
  if (kind === 'images') return { kind, ...(await decodeAll(await listImages(input, { extensions: args.imageExtensions }), args, options)) };
  if (kind === 'video') {
    const frames = await extractVideoFrames(input, { fps: args.fps, signal: options.signal });
    if (frames.length === 0) throw new Da3Error('EMPTY_INPUT', `no frames decoded from ${input}`);
    return { kind, images: frames, names: frames.map((_, i) => `${String(i).padStart(6, '0')}.png`), sizes: frames.map((f) => [f.width, f.height]) };
  }
  // COLMAP folder: images/ + sparse/[subdir]
  const sparse = join(input, 'sparse', args.sparseSubdir);
  const model = readColmap((name) => (existsSync(join(sparse, name)) ? new Uint8Array(readFileSync(join(sparse, name))) : undefined));
  const cams = colmapToCameras(model);
  const paths = cams.names.map((n) => join(input, 'images', n));
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) throw new Da3Error('IO', `COLMAP images missing: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`);
  const decoded = await decodeAll(paths, args, options);
  const n = paths.length;
  const extrinsics = new Float32Array(n * 16);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 12; k++) extrinsics[i * 16 + k] = cams.w2c[i * 12 + k];
    extrinsics[i * 16 + 15] = 1;
  }
  const intrinsics = Array.from({ length: n }, (_, i) => Float32Array.from(cams.intrinsics.subarray(i * 9, i * 9 + 9)));
  return { kind: 'colmap', ...decoded, extrinsics, intrinsics };
}

