#!/usr/bin/env node
import { parseCliArgs } from './args.js';
import { runCli } from './main.js';

// Ctrl-C (or SIGTERM) stops the run between steps: downloads, conversion, decoding, inference
// stages and exports end with nothing partial left behind; a second Ctrl-C exits at once.
const controller = new AbortController();
const stop = (signal: NodeJS.Signals) => {
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write(`\nda3: ${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping… (again to quit at once)\n`);
  controller.abort(new Error(`received ${signal}`));
};

const args = process.argv.slice(2);
// `backend`, `gallery` and `app` handle their own signals (graceful shutdown).
const serving = (() => {
  try {
    const parsed = parseCliArgs(args);
    return typeof parsed === 'object' && ['backend', 'gallery', 'app'].includes(parsed.command);
  } catch {
    return false; // runCli reports the usage error
  }
})();
if (!serving) {
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

runCli(args, { stdout: process.stdout, stderr: process.stderr }, controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`da3: error: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
