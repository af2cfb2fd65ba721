import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageU8, readOnnxMetadata } from '@da3js/core';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadTensors } from '../../../test-utils/fixtures.js';
import { parseCliArgs } from '../src/cli/args.js';
import { fileByteSource } from '../src/hub/fs.js';
import { DepthAnything3, type FromPretrainedOptions } from '../src/model/depth-anything-3.js';

const work = mkdtempSync(join(tmpdir(), 'da3js-dtype-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const raw = async (input: unknown) => input as ImageU8;
const files = { configPath: join(FIXTURES, 'tiny', 'config.json'), weightsPath: join(FIXTURES, 'tiny', 'model.safetensors') };

function views(u8: { data: unknown; shape: number[] }): ImageU8[] {
  const [S, H, W] = u8.shape;
  return Array.from({ length: S }, (_, s) => ({ data: (u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3), width: W, height: H, channels: 3 as const }));
}

describe('option values @da3js/node does not support are refused, typed, before anything is read', () => {
  const cases: [string, FromPretrainedOptions, string][] = [
    ['q4 (not built)', { dtype: 'q4' as never }, 'UNSUPPORTED'],
    ['q4f16', { dtype: 'q4f16' as never }, 'UNSUPPORTED'],
    ['int8 (called q8 here)', { dtype: 'int8' as never }, 'UNSUPPORTED'],
    ['an unknown dtype', { dtype: 'float32' as never }, 'BAD_VALUE'],
    ['q8 on CUDA', { dtype: 'q8', device: 'cuda' }, 'UNSUPPORTED'],
    ["the browser's device", { device: 'webgpu' as never }, 'UNSUPPORTED'],
    ['an unknown device', { device: 'tpu' as never }, 'BAD_VALUE'],
    ['threads 0', { threads: 0 }, 'BAD_VALUE'],
    ['threads 1.5', { threads: 1.5 }, 'BAD_VALUE'],
    ['an unknown kind', { kind: 'stereo' as never }, 'BAD_VALUE'],
  ];
  it.each(cases)('%s', async (_name, options, code) => {
    // A path that does not exist: the options are checked first.
    await expect(DepthAnything3.fromPretrained(join(work, 'nowhere'), options)).rejects.toMatchObject({ code });
    expect(() => DepthAnything3.fromFiles(files, options, raw)).toThrow(expect.objectContaining({ code }));
  });

  it('the CLI refuses them as usage errors, naming the flag', () => {
    expect(() => parseCliArgs(['image', 'a.png', '--dtype', 'q4'])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/--dtype: dtype "q4" is not supported/) }));
    expect(() => parseCliArgs(['image', 'a.png', '--dtype', 'int4'])).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
    expect(() => parseCliArgs(['image', 'a.png', '--dtype', 'q8', '--device', 'cuda'])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(parseCliArgs(['convert', 'm', '--dtype', 'q8'])).toMatchObject({ dtype: 'q8' });
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'packages/node/dist/cli/bin.js'), 'image', 'a.png', '--dtype', 'q4'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^da3: error: --dtype: dtype "q4" is not supported \(4-bit/);
  });
});

describe("dtype 'q8'", () => {
  it('converts an int8 graph into its own cache file, runs it on the CPU (device auto), depth within 2% of fp32', async () => {
    const cacheDir = join(work, 'cache');
    const inputs = views((await loadTensors('tiny/multi/inputs.safetensors')).image_u8);
    const fp32 = DepthAnything3.fromFiles(files, { cacheDir }, raw);
    const q8 = DepthAnything3.fromFiles(files, { cacheDir, dtype: 'q8', device: 'auto' }, raw);
    const a = await fp32.inference(inputs, { processRes: 84, refViewStrategy: 'first' });
    const b = await q8.inference(inputs, { processRes: 84, refViewStrategy: 'first' });
    expect(q8.device).toEqual({ device: 'cpu' });
    const rel = Float64Array.from(b.depth, (v, i) => Math.abs(v - a.depth[i]) / Math.abs(a.depth[i])).sort();
    expect(rel[rel.length >> 1]).toBeGreaterThan(0);
    expect(rel[rel.length >> 1]).toBeLessThan(0.02);
    await fp32.dispose();
    await q8.dispose();
    const [folder] = readdirSync(join(cacheDir, 'graphs'));
    // One graph per dtype (the graph inference runs: no ray branch), its weights beside it, and
    // onnxruntime's saved optimised copy of each (`.ort-<runtime hash>`).
    const graphs = readdirSync(join(cacheDir, 'graphs', folder)).map((f) => f.replace(/\.ort-[0-9a-f]+\./, '.ort-<h>.'));
    expect(graphs.sort()).toEqual(
      ['fp32', 'q8'].flatMap((d) => [`net-unposed-${d}-first-norays.onnx`, `net-unposed-${d}-first-norays.onnx.data`, `net-unposed-${d}-first-norays.ort-<h>.onnx`, `net-unposed-${d}-first-norays.ort-<h>.onnx.data`]),
    );
  });

  it('da3 convert --dtype q8 writes a q8 graph; fromOnnx takes its dtype from the metadata and refuses another', async () => {
    const out = join(work, 'onnx-q8');
    const bin = join(REPO_ROOT, 'packages/node/dist/cli/bin.js');
    const r = spawnSync(process.execPath, [bin, 'convert', join(FIXTURES, 'tiny'), '--out', out, '--dtype', 'q8', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ command: 'convert', dtype: 'q8' });
    const path = join(out, 'model.onnx');
    expect(existsSync(path)).toBe(true);
    const source = fileByteSource(path);
    expect((await readOnnxMetadata(source))['da3js.quantization']).toBe('q8');
    source.close();
    const model = await DepthAnything3.fromOnnx(path, {}, raw);
    const inputs = views((await loadTensors('tiny/multi/inputs.safetensors')).image_u8);
    await model.inference(inputs, { processRes: 84 });
    expect(model.device?.device).toBe('cpu');
    await model.dispose();
    await expect(DepthAnything3.fromOnnx(path, { dtype: 'fp16' }, raw)).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    await expect(DepthAnything3.fromOnnx(path, { device: 'cuda' }, raw)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(DepthAnything3.fromOnnx(path, { dtype: 'q8' }, raw)).resolves.toBeInstanceOf(DepthAnything3);
  });
});
