/**
 * Shared test utilities of every package (not published).
 *
 * Test-only access to the golden fixtures: the repository's `fixtures/` (a copy of
 * `../shared/fixtures`, checked identical in CI), or `$DA3_FIXTURES`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NativeArray, SafetensorsFile, type SafetensorsDtype, memoryByteSource } from '@da3js/core';

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).workspaces) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`fixtures: no workspace root above ${start}`);
    dir = up;
  }
}

export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * Absolute path of the fixtures folder: `$DA3_FIXTURES`, else the repository's own copy
 * (`fixtures/`, kept identical to `../shared/fixtures` by `scripts/sync-fixtures.mjs`), else
 * `../shared/fixtures` beside the repository. Throws a clear message when none exists.
 */
export const FIXTURES = (() => {
  const candidates = process.env.DA3_FIXTURES ? [resolve(process.env.DA3_FIXTURES)] : [resolve(REPO_ROOT, 'fixtures'), resolve(REPO_ROOT, '..', 'shared', 'fixtures')];
  const dir = candidates.find((d) => existsSync(join(d, 'README.md')));
  if (!dir) {
    throw new Error(`fixtures: golden fixtures not found (looked in ${candidates.join(', ')}). They ship in the repository's fixtures/ folder; restore it with git checkout, or set DA3_FIXTURES.`);
  }
  return dir;
})();

/** A fixture tensor: dtype, shape and native data (F32 → Float32Array, F64 → Float64Array, I64 → BigInt64Array, U8/BOOL → Uint8Array). */
export interface FixtureTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: NativeArray;
}

/** Reads every tensor of a fixture safetensors file (path relative to the fixtures folder). */
export async function loadTensors(relPath: string): Promise<Record<string, FixtureTensor>> {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, relPath)));
  const st = await SafetensorsFile.open(memoryByteSource(bytes));
  const out: Record<string, FixtureTensor> = {};
  for (const name of st.names()) {
    const info = st.info(name);
    out[name] = { dtype: info.dtype, shape: [...info.shape], data: await st.read(name) };
  }
  return out;
}

/** Reads a JSON file from the fixtures folder. */
export function loadJson<T = unknown>(relPath: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, relPath), 'utf8')) as T;
}

/** Numbers of a tensor as a plain Float64Array (bigint and bool included). */
export function asFloat64(t: FixtureTensor | NativeArray): Float64Array {
  const data = 'data' in t && 'dtype' in t ? t.data : (t as NativeArray);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float64Array.from(data, (v) => Number(v));
  return Float64Array.from(data as ArrayLike<number>);
}

/**
 * The outputs of one fixture case (`<model>/<case>/outputs.safetensors`) with the tensors that
 * case.json stores only as `same_values_as` another key (e.g. `pred.depth` → `out.depth`) filled
 * in, so tests can name every key they expect explicitly.
 */
export async function loadCaseOutputs(model: string, name: string): Promise<Record<string, FixtureTensor>> {
  const outputs = await loadTensors(`${model}/${name}/outputs.safetensors`);
  const meta = loadJson<{ outputs: Record<string, { shape: number[]; same_values_as?: string }> }>(`${model}/${name}/case.json`);
  for (const [key, info] of Object.entries(meta.outputs)) {
    const alias = info.same_values_as;
    if (!outputs[key] && alias && outputs[alias]) outputs[key] = { ...outputs[alias], shape: info.shape };
  }
  return outputs;
}
