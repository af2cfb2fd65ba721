import { readFileSync } from 'node:fs';

/**
 * The installed `@da3js/node` version, read from its package.json (two folders up from both
 * `src/cli/` and the built `dist/cli/`).
 */
export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return `${pkg.name ?? '@da3js/node'} ${pkg.version ?? 'unknown'}`;
  } catch {
    return '@da3js/node unknown';
  }
}
