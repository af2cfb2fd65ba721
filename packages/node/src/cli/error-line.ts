import { isDa3Error } from '@da3js/core';

/**
 * `buildNetGraph: `, `DepthAnything3.inference: `… — the internal function or class a library
 * message starts with (camelCase or PascalCase with at least two words, optionally `.method`).
 */
const INTERNAL_PREFIX = /^(?:[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+|[A-Z][a-z0-9]+(?:[A-Z0-9][a-z0-9]*)+)(?:\.[a-zA-Z]+)?: /;

/**
 * The `da3: error: …` text for an error: one line in the user's terms (the flag or file and the
 * error code), without the library's internal function names. With `verbose`, the full message,
 * every `cause` and the stack follow.
 */
export function errorLines(error: unknown, verbose: boolean): string {
  const err = error instanceof Error ? error : new Error(String(error));
  const code = isDa3Error(err) ? ` [${err.code}]` : '';
  const first = err.message.split('\n')[0] ?? '';
  const shown = verbose ? first : first.replace(INTERNAL_PREFIX, '');
  let out = `da3: error: ${shown}${code}\n`;
  if (verbose) {
    if (err.stack) out += `${err.stack}\n`;
    let cause = (err as { cause?: unknown }).cause;
    for (let depth = 0; cause !== undefined && depth < 8; depth++) {
      out += `caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`;
      cause = cause instanceof Error ? (cause as { cause?: unknown }).cause : undefined;
    }
  }
  return out;
}
