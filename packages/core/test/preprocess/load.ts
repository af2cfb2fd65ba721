/** Test helpers for the preprocess fixtures (`fixtures/preprocess/`, fixtures README §3). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageU8 } from '@da3js/core';
import { PNG } from 'pngjs';
import { FIXTURES, type FixtureTensor, loadJson, loadTensors } from '../helpers/fixtures.js';

/** Decodes a fixture PNG to RGBA (pngjs always yields 4 channels). */
export function loadPng(name: string): ImageU8 {
  const png = PNG.sync.read(readFileSync(join(FIXTURES, 'preprocess', name)));
  return { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length), width: png.width, height: png.height, channels: 4 };
}

/** `preprocess.json`, the parts the tests read. */
export interface PreprocessCase {
  methods: Record<
    string,
    {
      boundary_resize: { size_wh: [number, number]; scale: number; interpolation: string };
      make_divisible: { op: string; size_wh: [number, number]; interpolation?: string; crop_left?: number; crop_top?: number };
      intrinsics_out: number[][];
      network_tensor_shape: number[];
    }
  >;
  mixed_batch: { network_input_shape: number[] };
}

let tensors: Promise<Record<string, FixtureTensor>> | undefined;

/** All tensors of `preprocess.safetensors` (read once). */
export function preprocessTensors(): Promise<Record<string, FixtureTensor>> {
  tensors ??= loadTensors('preprocess/preprocess.safetensors');
  return tensors;
}

/** `preprocess.json`. */
export function preprocessCase(): PreprocessCase {
  return loadJson<PreprocessCase>('preprocess/preprocess.json');
}

/** Pixel agreement of two uint8 arrays. */
export interface PixelStats {
  n: number;
  exact: number;
  within1: number;
  maxDiff: number;
}

export function pixelStats(got: ArrayLike<number>, want: ArrayLike<number>): PixelStats {
  if (got.length !== want.length) throw new Error(`pixelStats: length ${got.length} ≠ ${want.length}`);
  let exact = 0;
  let within1 = 0;
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (d === 0) exact++;
    if (d <= 1) within1++;
    if (d > maxDiff) maxDiff = d;
  }
  return { n: want.length, exact, within1, maxDiff };
}

export function formatStats(label: string, s: PixelStats): string {
  return `${label}: ${s.exact}/${s.n} exact (${((100 * s.exact) / s.n).toFixed(3)}%), ${((100 * s.within1) / s.n).toFixed(3)}% within 1, max diff ${s.maxDiff}`;
}
