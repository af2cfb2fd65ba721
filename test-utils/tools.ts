/**
 * Tests that need a real system tool (Blender, Chromium, Debian's NumPy) call {@link requireTool}:
 * under CI a missing tool fails the test (CI must install it), elsewhere the test is skipped
 * with a note saying how to install it.
 */
import { isDa3Error } from '@da3js/core';

/** True when the tool is there; otherwise throws under CI and skips (saying why) elsewhere. */
export function requireTool(ctx: { skip: (note?: string) => void }, available: boolean, missing: string): boolean {
  if (available) return true;
  if (process.env.CI) throw new Error(`CI: ${missing}`);
  console.warn(`skipped: ${missing}`);
  ctx.skip(missing);
  return false;
}

/** The `Da3Error` code `fn` throws, or `'no error'`; other errors are rethrown. */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isDa3Error(e)) return e.code;
    throw e;
  }
  return 'no error';
}
