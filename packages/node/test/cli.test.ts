import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadTensors } from '../../../test-utils/fixtures.js';

const BIN = join(REPO_ROOT, 'packages/node/dist/cli/bin.js');
const work = mkdtempSync(join(tmpdir(), 'da3js-cli-'));
const cache = join(work, 'cache');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function da3(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, DA3_CACHE: cache, HF_HUB_OFFLINE: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  const inputs = await loadTensors('tiny/multi/inputs.safetensors');
  const [S, H, W] = inputs.image_u8.shape;
  mkdirSync(join(work, 'scene'));
  for (let s = 0; s < S; s++) {
    const px = Buffer.from((inputs.image_u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3));
    await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toFile(join(work, 'scene', `view${s}.png`));
  }
});

describe('da3 CLI', () => {
  it('prints usage with --help and exits 0; with no command prints it on stderr and exits 2; --version', () => {
    const r = da3('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: da3 <command>/);
    const none = da3();
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^Usage: da3 <command>/);
    const version = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/node/package.json'), 'utf8')).version;
    for (const flag of ['--version', '-V']) {
      const v = da3(flag);
      expect(v.code).toBe(0);
      expect(v.stdout).toBe(`@da3js/node ${version}\n`);
    }
  });

  it("error lines speak the user's terms; --verbose adds the internals", () => {
    const onnx = join(work, 'not-a-graph.onnx');
    writeFileSync(onnx, 'not onnx');
    const plain = da3('image', join(work, 'scene', 'view0.png'), '--model-dir', onnx, '--export-dir', join(work, 'x'));
    expect(plain.code).toBe(1);
    const line = plain.stderr.trim().split('\n').pop()!;
    expect(line).toMatch(/^da3: error: .*\[[A-Z_]+\]$/);
    expect(line).not.toMatch(/^da3: error: [a-zA-Z]+[A-Z][a-zA-Z0-9.]*: /);
    const verbose = da3('image', join(work, 'scene', 'view0.png'), '--model-dir', onnx, '--export-dir', join(work, 'x'), '--verbose');
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^da3: error: [a-zA-Z]+[A-Z][a-zA-Z0-9.]*: /m);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('runs `auto` on a folder of images with a local model and writes the requested files (--json)', async () => {
    const out = join(work, 'out');
    const r = da3('auto', join(work, 'scene'), '--model-dir', join(FIXTURES, 'tiny'), '--export-dir', out, '--export-format', 'glb-mini_npz-depth_vis', '--process-res', '84', '--json');
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ command: 'auto', kind: 'images', views: 3, width: 84, height: 56, device: 'cpu' });
    expect(existsSync(join(out, 'exports/mini_npz/results.npz'))).toBe(true);
    expect(readdirSync(join(out, 'depth_vis')).sort()).toEqual(['0000.jpg', '0001.jpg', '0002.jpg']);
    const { default: validator } = await import('gltf-validator');
    const report = await validator.validateBytes(new Uint8Array(readFileSync(join(out, 'scene.glb'))));
    expect([report.issues.numErrors, report.issues.numWarnings]).toEqual([0, 0]);
    expect(report.info.totalVertexCount).toBeGreaterThan(1000);
  });

  it('converts a checkpoint to ONNX', () => {
    const out = join(work, 'onnx');
    const r = da3('convert', join(FIXTURES, 'tiny'), '--out', out, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim()).files).toEqual([join(out, 'model.onnx')]);
    expect(existsSync(join(out, 'model.onnx'))).toBe(true);
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // The converted graph runs on its own (config read from its metadata).
    const scene = join(work, 'scene');
    const r2 = da3('images', scene, '--model-dir', join(out, 'model.onnx'), '--export-format', 'mini_npz', '--process-res', '84', '--export-dir', join(work, 'from-onnx'), '--json');
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout.trim().split('\n').pop()!)).toMatchObject({ views: 3 });
    const r3 = da3('images', scene, '--model-dir', join(out, 'model.onnx'), '--ref-view-strategy', 'first', '--process-res', '84', '--export-dir', join(work, 'from-onnx2'));
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/was built unposed with refViewStrategy saddle_balanced/);
  });

  it('fails with one clear line and a non-zero code on bad input', () => {
    const usage = da3('frobnicate');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^da3: error: unknown command "frobnicate"/);
    const missing = da3('image', join(work, 'nope.png'), '--model-dir', join(FIXTURES, 'tiny'));
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n').pop()).toMatch(/^da3: error: .*nope\.png/);
    // Checked before any model is loaded: the model here does not even exist.
    const badFormat = da3('images', join(work, 'scene'), '--model-dir', join(work, 'no-such-model'), '--export-format', 'pointz', '--process-res', '84', '--export-dir', join(work, 'bad'));
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/^da3: error: --export-format unknown format "pointz"; one of mini_npz, /);
    expect(existsSync(join(work, 'bad'))).toBe(false);
    const featVis = da3('images', join(work, 'scene'), '--model-dir', join(work, 'no-such-model'), '--export-format', 'glb-feat_vis');
    expect(featVis.code).toBe(2);
    expect(featVis.stderr).toMatch(/--export-format feat_vis needs --export-feat/);
    const noInput = da3('images');
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toMatch(/^da3: error: images needs an input path/);
    const badFlag = da3('images', join(work, 'scene'), '--process-res', 'big');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--process-res must be an integer/);
    for (const [flag, value] of [
      ['--process-res', '100000'],
      ['--conf-thresh-percentile', '101'],
      ['--fps', '0'],
      ['--num-max-points', '0'],
      ['--port', '70000'],
      ['--export-feat', '1,99999'],
    ]) {
      const r = da3('images', join(work, 'scene'), flag, value);
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`${flag} must be an? (integer|number) in \\[`));
    }
  });
});
