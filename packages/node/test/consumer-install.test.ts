import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadTensors } from '../../../test-utils/fixtures.js';

/**
 * What a user of the published packages gets: `npm pack` core, exporters, node and client, install
 * the tarballs into a fresh project the way the @da3js/node README says (ONNXRUNTIME_NODE_INSTALL=skip,
 * dependencies from the npm cache or registry), then use them as a user would: ESM and CJS imports,
 * `tsc --strict` against the published types, `npx da3 --version`, and a tiny-model run. The
 * installed size of each package is measured (printed, and bounded for our own packages).
 */
const work = mkdtempSync(join(tmpdir(), 'da3js-consumer-'));
const app = join(work, 'app');
const PACKAGES = ['core', 'exporters', 'node', 'client'] as const;
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Bytes under a folder (apparent sizes). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).size;
  }
  return total;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: app, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
}

const installEnv = { ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

beforeAll(() => {
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs, { recursive: true });
  mkdirSync(app);
  const deps: Record<string, string> = {};
  for (const p of PACKAGES) {
    const name = execFileSync(npm, ['pack', '--pack-destination', tarballs], { cwd: join(REPO_ROOT, 'packages', p), encoding: 'utf8' }).trim().split('\n').pop()!;
    deps[`@da3js/${p}`] = `file:${join(tarballs, name)}`;
  }
  const versions = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'da3js-consumer', private: true, type: 'module', dependencies: deps, devDependencies: { typescript: versions('typescript'), '@types/node': versions('@types/node') } }, null, 2),
  );
  const install = run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund'], installEnv);
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.out}`);
}, 300_000);

describe('a consumer install of the packed packages', () => {
  it('gets the onnxruntime minor the repo tests, and no CUDA download', () => {
    const tested = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version as string;
    const got = JSON.parse(readFileSync(join(app, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version as string;
    expect(got.split('.').slice(0, 2)).toEqual(tested.split('.').slice(0, 2));
    const bin = join(app, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
    if (process.platform === 'linux' && process.arch === 'x64') expect(readdirSync(bin).filter((f) => /cuda|tensorrt/i.test(f))).toEqual([]);
  });

  it('imports as ESM and as CJS (subpath exports included)', () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { DepthAnything3 } from '@da3js/node';
import { generateWebhookSecret, parseJobRequest, verifyWebhook } from '@da3js/core/protocol';
import { buildNetGraph } from '@da3js/core/graph';
import { exportFormats } from '@da3js/exporters';
import { da3Worker } from '@da3js/client';
if (typeof buildNetGraph !== 'function') throw new Error('no @da3js/core/graph');
import { createRequire } from 'node:module';
// One error class for every copy of core: ESM and CJS builds, main and subpath entries.
const cjsCore = createRequire(import.meta.url)('@da3js/core');
let e;
try { verifyWebhook(generateWebhookSecret(), {}, '{}'); } catch (error) { e = error; }
console.log(JSON.stringify([typeof DepthAnything3.fromPretrained, typeof parseJobRequest, exportFormats().length, typeof da3Worker, cjsCore.isDa3Error(e, 'UNAUTHORIZED')]));
`,
    );
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const { DepthAnything3 } = require('@da3js/node');
const { generateWebhookSecret, parseJobRequest, verifyWebhook } = require('@da3js/core/protocol');
const { exportFormats } = require('@da3js/exporters');
const { da3Worker } = require('@da3js/client');
const core = require('@da3js/core');
let e;
try { verifyWebhook(generateWebhookSecret(), {}, '{}'); } catch (error) { e = error; }
console.log(JSON.stringify([typeof DepthAnything3.fromPretrained, typeof parseJobRequest, exportFormats().length, typeof da3Worker, core.isDa3Error(e, 'UNAUTHORIZED') && e instanceof core.Da3Error]));
`,
    );
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      const r = run(process.execPath, [file]);
      expect(r.code, r.out).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toEqual(['function', 'function', 13, 'function', true]);
    }
  });

  it('type-checks a user program with tsc --strict against the published types', () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['main.ts'] }),
    );
    writeFileSync(
      join(app, 'main.ts'),
      `import { DepthAnything3, type NodePrediction } from '@da3js/node';
import { type Prediction, isDa3Error } from '@da3js/core';
import { parseJobRequest } from '@da3js/core/protocol';

export async function depthOf(path: string, signal?: AbortSignal): Promise<Float32Array> {
  const model = await DepthAnything3.fromPretrained('depth-anything/DA3-SMALL', { device: 'cpu', dtype: 'fp32', signal });
  try {
    const prediction: NodePrediction = await model.inference(path, { processRes: 504, signal, onProgress: (e) => e.estimatedMs });
    const plain: Prediction = prediction;
    await prediction.export({ dir: 'out', formats: 'glb-mini_npz', signal });
    return plain.depth;
  } catch (error) {
    if (isDa3Error(error, 'ABORTED')) return new Float32Array(0);
    throw error;
  } finally {
    await model.dispose();
  }
}
export const request = parseJobRequest({ inputs: [{ url: 'https://example.com/a.jpg' }] });
// @ts-expect-error processRes is a number
export const wrong = (m: DepthAnything3) => m.inference('a.jpg', { processRes: '504' });
`,
    );
    const r = run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
    expect(r.code, r.out).toBe(0);
  });

  it('npx da3 --version, then a tiny-model run through the installed CLI', async () => {
    const version = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/node/package.json'), 'utf8')).version as string;
    const v = run(npm, ['exec', '--offline', '--', 'da3', '--version']);
    expect(v.code, v.out).toBe(0);
    expect(v.stdout.trim()).toBe(`@da3js/node ${version}`);
    const u8 = (await loadTensors('tiny/multi/inputs.safetensors')).image_u8;
    const [, H, W] = u8.shape;
    await sharp(Buffer.from((u8.data as Uint8Array).subarray(0, H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toFile(join(app, 'view.png'));
    const r = run(npm, ['exec', '--offline', '--', 'da3', 'image', 'view.png', '--model-dir', join(FIXTURES, 'tiny'), '--process-res', '84', '--export-format', 'glb-mini_npz', '--export-dir', 'out', '--json'], {
      DA3_CACHE: join(work, 'cache'),
      HF_HUB_OFFLINE: '1',
    });
    expect(r.code, r.out).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { views: number; files: string[] };
    expect(summary.views).toBe(1);
    // glb also writes the depth_vis images and scene.jpg, as the reference's GLB export does.
    expect(summary.files.map((f) => f.slice(join(app, 'out').length + 1)).sort()).toEqual(['depth_vis/0000.jpg', 'exports/mini_npz/results.npz', 'scene.glb', 'scene.jpg']);
    expect(existsSync(join(app, 'out', 'scene.glb'))).toBe(true);
  });

  it('measures the installed size of each package (our own packages stay small)', () => {
    const sizes: Record<string, number> = {};
    for (const p of PACKAGES) sizes[`@da3js/${p}`] = folderBytes(join(app, 'node_modules/@da3js', p));
    for (const dep of ['onnxruntime-node', 'onnxruntime-common', 'sharp', '@img', 'zod', 'hono', 'yaml', 'ml-matrix', 'fflate']) {
      if (existsSync(join(app, 'node_modules', dep))) sizes[dep] = folderBytes(join(app, 'node_modules', dep));
    }
    sizes.total = folderBytes(join(app, 'node_modules'));
    console.log(`installed sizes (MiB): ${Object.entries(sizes).map(([k, b]) => `${k} ${(b / 2 ** 20).toFixed(1)}`).join(', ')}`);
    // 4 MiB each (ESM + CJS + types): core now also carries the Gaussian rasterizers (CPU and WebGPU
    // shaders), the gs_video trajectories, DA3-Streaming and the int8 pass (3.4 MiB installed).
    for (const p of PACKAGES) expect(sizes[`@da3js/${p}`], p).toBeLessThan(4 * 2 ** 20);
  });
});
