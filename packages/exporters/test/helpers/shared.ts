/** Helpers shared by the exporter tests (not published). */
import { spawnSync } from 'node:child_process';
import { isDa3Error } from '@da3js/core';
import { memorySink } from '@da3js/exporters';
import { expect } from 'vitest';
import { requireTool } from '../../../../test-utils/tools.js';

/** Asserts that `fn` throws a Da3Error with `code` (and a message matching `message`). */
export function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isDa3Error(e), String(e)).toBe(true);
    expect((e as { code: string }).code, String(e)).toBe(code);
    if (message) expect(String((e as Error).message)).toMatch(message);
    return;
  }
  throw new Error(`expected Da3Error ${code}`);
}

/** Asserts that `p` rejects with a Da3Error with `code` (and a message matching `message`). */
export async function expectCodeAsync(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  let error: unknown;
  await p.then(
    () => {
      throw new Error(`expected Da3Error ${code}`);
    },
    (e) => {
      error = e;
    },
  );
  expect(isDa3Error(error), String(error)).toBe(true);
  expect((error as { code: string }).code, String(error)).toBe(code);
  if (message) expect(String((error as Error).message)).toMatch(message);
}

/** A sink that keeps what it is given and records writes, bytes, close and abort. */
export function watchedSink() {
  const inner = memorySink();
  const state = { aborted: false, closed: false, writes: 0, bytes: 0 };
  return {
    state,
    inner,
    sink: {
      write: (c: Uint8Array) => {
        state.writes++;
        state.bytes += c.length;
        return inner.write(c);
      },
      close: () => {
        state.closed = true;
      },
      abort: () => {
        state.aborted = true;
      },
    },
  };
}

/** Debian's Blender (override with $BLENDER). */
export const BLENDER = process.env.BLENDER ?? 'blender';
const hasBlender = spawnSync(BLENDER, ['--version'], { encoding: 'utf8' }).status === 0;
const NO_BLENDER = `'${BLENDER}' not found: apt-get install -y blender (Debian bookworm ships 3.4)`;

/** True when Blender is there; otherwise fails under CI and skips (saying why) elsewhere. */
export function requireBlender(ctx: { skip: (note?: string) => void }): boolean {
  return requireTool(ctx, hasBlender, NO_BLENDER);
}

/** Debian's python3 (NOT a pyenv python: it sees python3-numpy, the reference's numpy<2 series). */
export const PY = '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const NO_NUMPY = `${PY} cannot import numpy: apt-get install -y python3-numpy (Debian's python3, not pyenv)`;

/** True when Debian's NumPy is there; otherwise fails under CI and skips (saying why) elsewhere. */
export function requireNumpy(ctx: { skip: (note?: string) => void }): boolean {
  return requireTool(ctx, hasNumpy, NO_NUMPY);
}
