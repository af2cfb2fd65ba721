#!/usr/bin/env node
// The `da3` command. Committed (not built) so that npm links it at install time, even in a fresh
// clone where `dist/` does not exist yet; it loads the built CLI and says how to build it if missing.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/bin.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('da3: error: the CLI is not built yet; run "npm run build" in the da3js repository first\n');
  process.exitCode = 1;
} else {
  await import(cli.href);
}
