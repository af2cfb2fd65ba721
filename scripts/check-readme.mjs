#!/usr/bin/env node
// CI step: executes every shell line of the README's code blocks, so the README cannot rot.
//
// - The first block must be exactly the newcomer's two commands (`npm ci && npm run demo`,
//   `npm test`); `.ci/run` runs `npm ci` and `npm test` itself, so here only `npm run demo` runs.
// - Every other line runs with bash in a temp sandbox holding `photos/` (the example scene) and
//   `clip.mp4` (made from it with ffmpeg), with `npx` resolving the workspace's `da3`, and
//   `depth-anything/DA3-SMALL` served in the hub's HTTP layout by `da3 app`'s server
//   (`createAppServer`) from the tiny test model — so the real download, cache, conversion and
//   inference code runs offline.
// - Long-running servers (`da3 backend`, `da3 gallery`, `da3 app`) must print "listening" within 60 s; they
//   are then stopped with SIGTERM and must exit cleanly (0, or npx re-raising the SIGTERM).
// Prints one line per command with its time; exits 1 at the first failure with its output.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAppServer, resolveServedModel } from '@da3js/node';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const fixtures = [process.env.DA3_FIXTURES, join(root, 'fixtures'), join(root, '..', 'shared', 'fixtures')].find((d) => d && existsSync(join(d, 'tiny', 'model.safetensors')));
if (!fixtures) throw new Error('check-readme: no fixtures/tiny model found');

/** The shell lines of every ```sh / ```bash block, in order: { block, line }. */
function shellLines(markdown) {
  const out = [];
  const blocks = [...markdown.matchAll(/^```(sh|bash|shell)\n([\s\S]*?)^```/gm)];
  blocks.forEach((b, block) => {
    for (const raw of b[2].split('\n')) {
      const line = raw.trim();
      if (line && !line.startsWith('#')) out.push({ block, line });
    }
  });
  return out;
}

const lines = shellLines(readme);
const first = lines.filter((l) => l.block === 0).map((l) => l.line);
if (JSON.stringify(first) !== JSON.stringify(['npm ci && npm run demo', 'npm test'])) {
  console.error(`check-readme: the README's first block must be the two set-up commands, got ${JSON.stringify(first)}`);
  process.exit(1);
}
const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
if (!/^npm ci$/m.test(ci) || !/^npm test$/m.test(ci)) {
  console.error('check-readme: .ci/run must run `npm ci` and `npm test` (the README set-up commands)');
  process.exit(1);
}

const sandbox = mkdtempSync(join(tmpdir(), 'da3js-readme-'));
const hub = await serveHub(join(fixtures, 'tiny'), 'depth-anything/DA3-SMALL');
let failed = false;
try {
  writeFileSync(join(sandbox, 'package.json'), '{ "name": "readme-sandbox", "private": true }\n');
  symlinkSync(join(root, 'node_modules'), join(sandbox, 'node_modules'), 'dir');
  mkdirSync(join(sandbox, 'photos'));
  const scene = join(root, 'examples', 'scene');
  for (const f of readdirSync(scene)) copyFileSync(join(scene, f), join(sandbox, 'photos', f));
  execFileSync(process.env.FFMPEG_PATH ?? 'ffmpeg', ['-loglevel', 'error', '-framerate', '2', '-i', join(sandbox, 'photos', 'view%d.png'), '-pix_fmt', 'yuv420p', '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', join(sandbox, 'clip.mp4')]);
  const env = {
    ...process.env,
    HOME: join(sandbox, 'home'),
    HF_ENDPOINT: hub.endpoint,
    HF_HUB_OFFLINE: '',
    DA3_CACHE: '',
    DA3_DEMO_OUT: join(sandbox, 'demo-output'),
    DA3_DEMO_TINY: join(sandbox, 'demo-tiny'),
    DA3_TOKEN: '',
  };
  delete env.DA3_CACHE;
  for (const { block, line } of lines) {
    if (block === 0 && line !== 'npm ci && npm run demo') continue; // `npm test`: .ci/run's own step
    const command = block === 0 ? 'npm run demo' : line;
    const cwd = command.startsWith('npm run') ? root : sandbox;
    const server = /\bda3 (backend|gallery|app)\b/.test(command);
    const started = Date.now();
    const result = await runLine(command, cwd, env, server);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.ok) console.log(`ok   ${seconds.padStart(6)} s  ${line}`);
    else {
      console.error(`FAIL ${seconds.padStart(6)} s  ${line}\n${result.output}`);
      failed = true;
      break;
    }
  }
} finally {
  await hub.close();
  rmSync(sandbox, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

/** Serves the model folder `dir` as hub repo `repo` on 127.0.0.1 (no app: an empty app folder). */
async function serveHub(dir, repo) {
  const appDir = mkdtempSync(join(tmpdir(), 'da3js-readme-app-'));
  const model = { ...(await resolveServedModel(dir)), repo };
  const server = createAppServer({ appDir, model, host: '127.0.0.1' });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(appDir, { recursive: true, force: true });
          ok();
        });
      }),
  };
}

/** Runs one line with bash; a server must say "listening", then exit 0 on SIGTERM. */
function runLine(command, cwd, env, server) {
  return new Promise((resolve) => {
    // Its own process group, so a stop reaches the server itself and not only npx's wrapper.
    const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const signalGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let output = '';
    let listening = false;
    const timer = setTimeout(() => {
      output += `\n(timed out after ${server ? 60 : 600} s)`;
      signalGroup('SIGKILL');
    }, server ? 60_000 : 600_000);
    const onData = (d) => {
      output += d;
      if (server && !listening && /listening on/.test(output)) {
        listening = true;
        setTimeout(() => signalGroup('SIGTERM'), 500);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      signalGroup('SIGKILL'); // nothing of this line outlives it
      // bash and npm exec (npx) die of the SIGTERM the server shut down on.
      const stopped = code === 0 || (server && (signal === 'SIGTERM' || code === 143));
      resolve({ ok: stopped && (!server || listening), output: `${output.slice(-4000)}\n(exit code ${code}, signal ${signal})` });
    });
  });
}
