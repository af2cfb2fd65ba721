/**
 * Test-only access to the repository's `testdata/` (goldens made by scripts/goldens/*: the
 * reference's code run on small inputs; each folder's JSON says how).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, memoryByteSource } from '@da3js/core';
import { type FixtureTensor, REPO_ROOT } from './fixtures.js';

/** Absolute path of the repository's testdata folder. */
export const TESTDATA = join(REPO_ROOT, 'testdata');

/** Reads every tensor of a safetensors file under testdata/ (path relative to it). */
export async function loadTestdataTensors(relPath: string): Promise<Record<string, FixtureTensor>> {
  const st = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(TESTDATA, relPath)))));
  const out: Record<string, FixtureTensor> = {};
  for (const name of st.names()) {
    const info = st.info(name);
    out[name] = { dtype: info.dtype, shape: [...info.shape], data: await st.read(name) };
  }
  return out;
}

/** Reads a JSON file under testdata/. */
export function loadTestdataJson<T = unknown>(relPath: string): T {
  return JSON.parse(readFileSync(join(TESTDATA, relPath), 'utf8')) as T;
}
