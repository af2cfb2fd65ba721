/**
 * Running Debian's Blender headless for the add-on tests: a fresh profile per run
 * (`--factory-startup`, `BLENDER_USER_SCRIPTS` in a temp folder into which the script installs
 * the built zip), one `DA3JS_RESULT <json>` line back. Without Blender: fails under CI, skips
 * elsewhere (test-utils/tools.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from '../../../../test-utils/tools.js';

/** Debian's Blender (override with $BLENDER). */
export const BLENDER = process.env.BLENDER ?? 'blender';
const hasBlender = spawnSync(BLENDER, ['--version'], { encoding: 'utf8' }).status === 0;

/** True when Blender is there; otherwise fails under CI and skips (saying why) elsewhere. */
export function requireBlender(ctx: { skip: (note?: string) => void }): boolean {
  return requireTool(ctx, hasBlender, `'${BLENDER}' not found: apt-get install -y blender (Debian bookworm ships 3.4)`);
}

const PKG = join(__dirname, '..', '..');

/** The built add-on zip (`npm run build -w @da3js/blender-bridge`). */
export function addonZip(): string {
  const { version } = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')) as { version: string };
  const zip = join(PKG, 'dist', `da3_blender-${version}.zip`);
  if (!existsSync(zip)) throw new Error(`${zip} is missing: run npm run build -w @da3js/blender-bridge`);
  return zip;
}

/** A test script in test/blender/. */
export const script = (name: string) => join(PKG, 'test', 'blender', name);

/** What a Blender run printed. */
export interface BlenderRun<T> {
  readonly result: T & { ok: boolean; error?: string; traceback?: string };
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly ms: number;
}

/**
 * Runs `blender -b --factory-startup -noaudio --python <script> -- ...args` with
 * `BLENDER_USER_SCRIPTS=<profile>/scripts` (config, data files and `DA3_CACHE` in the profile too), without
 * blocking the event loop (servers of the test keep answering).
 */
export function runBlender<T>(scriptPath: string, args: string[], profile: string, timeoutMs = 120_000): Promise<BlenderRun<T>> {
  const scripts = join(profile, 'scripts');
  mkdirSync(scripts, { recursive: true });
  const t0 = Date.now();
  return new Promise((ok, fail) => {
    const child = spawn(BLENDER, ['-b', '--factory-startup', '-noaudio', '--python', scriptPath, '--', ...args], {
      // DA3_CACHE: a da3 backend the add-on starts keeps its model cache in the profile too.
      env: { ...process.env, BLENDER_USER_SCRIPTS: scripts, BLENDER_USER_CONFIG: join(profile, 'config'), BLENDER_USER_DATAFILES: join(profile, 'datafiles'), DA3_CACHE: join(profile, 'da3-cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', fail);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('DA3JS_RESULT '));
      if (!line) return fail(new Error(`blender (${scriptPath}) printed no result (exit ${code}):\n${stdout.slice(-4000)}\n${stderr.slice(-2000)}`));
      ok({ result: JSON.parse(line.slice('DA3JS_RESULT '.length)), stdout, stderr, code, ms: Date.now() - t0 });
    });
  });
}
