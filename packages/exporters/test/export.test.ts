import { type Sink, createCpuRasterizer, createPrediction } from '@da3js/core';
import type { GsVideoEncoder } from '@da3js/exporters';
import { expectedExportFiles, exportFormats, exportPrediction, memorySink, parseFormats, readNpz } from '@da3js/exporters';
import { describe, expect, it } from 'vitest';
import { fixturePrediction } from '../../../test-utils/prediction.js';

function folder() {
  const files = new Map<string, ReturnType<typeof memorySink>>();
  const aborted: string[] = [];
  const open = (path: string): Sink => {
    const s = memorySink();
    files.set(path, s);
    return { ...s, write: s.write, close: s.close, abort: () => void aborted.push(path) };
  };
  return { files, aborted, open };
}

describe('exportPrediction', () => {
  it('accepts the reference format strings and writes the reference layout', async () => {
    const pred = await fixturePrediction('tiny', 'multi');
    const { files, open } = folder();
    const written = await exportPrediction(pred, 'mini_npz-npz-depth_vis', open);
    expect(written).toEqual(['exports/mini_npz/results.npz', 'exports/npz/results.npz', 'depth_vis/0000.jpg', 'depth_vis/0001.jpg', 'depth_vis/0002.jpg']);
    const mini = readNpz(files.get('exports/mini_npz/results.npz')!.bytes());
    expect(Object.keys(mini)).toEqual(['depth', 'conf', 'extrinsics', 'intrinsics']);
    const colmap = await exportPrediction(pred, 'colmap', open);
    expect(colmap).toEqual(['sparse/cameras.bin', 'sparse/images.bin', 'sparse/points3D.bin']);
    const jpg = files.get('depth_vis/0001.jpg')!.bytes();
    expect([jpg[0], jpg[1]]).toEqual([0xff, 0xd8]);
  });

  it('writes Gaussians as 3DGS PLY (reference DC-only and SH3 layouts) and SPZ, and asks for them when missing', async () => {
    // The reference's own Gaussians (one per pixel of 3 views of 56×42).
    const withGs = await fixturePrediction('tiny-giant', 'multi');
    const { files, open } = folder();
    expect(await exportPrediction(withGs, 'gs_ply-gs_ply_sh3-spz-gs_gltf', open)).toEqual(['gs_ply/0000.ply', 'gs_ply/0000_sh3.ply', 'gs/0000.spz', 'gs/scene_gaussians.glb']);
    // gs_ply is the reference's pruned file (5845 kept, no header comment); gs_ply_sh3 keeps every Gaussian.
    const header = new TextDecoder().decode(files.get('gs_ply/0000.ply')!.bytes().subarray(0, 200));
    expect(header).toMatch(/^ply\nformat binary_little_endian 1\.0\nelement vertex 5845\nproperty float x\n/);
    const sh3 = new TextDecoder().decode(files.get('gs_ply/0000_sh3.ply')!.bytes().subarray(0, 300));
    expect(sh3).toMatch(/element vertex 7056/);
    const pred = await fixturePrediction('tiny', 'multi');
    await expect(exportPrediction(pred, 'gs_ply', folder().open)).rejects.toThrow(/needs 3D Gaussians/);
  });

  it('writes the reference glb export (scene.glb + depth_vis + scene.jpg) that gltf-validator accepts', async () => {
    const { default: validator } = await import('gltf-validator');
    const pred = await fixturePrediction('tiny', 'multi');
    const { files, open } = folder();
    const written = await exportPrediction(pred, 'glb-depth_vis', open, { confThreshPercentile: 40, showCameras: true });
    expect(written).toEqual(['scene.glb', 'depth_vis/0000.jpg', 'depth_vis/0001.jpg', 'depth_vis/0002.jpg', 'scene.jpg']);
    const report = await validator.validateBytes(files.get('scene.glb')!.bytes());
    expect(report.issues.numErrors).toBe(0);
    expect(report.issues.numWarnings).toBe(0);
  });

  it('expectedExportFiles names exactly the files every format writes, before any inference', async () => {
    const pred = await fixturePrediction('tiny-giant', 'multi');
    const feat = (layer: number) => ({ layer, height: 4, width: 6, channels: 8, data: Float32Array.from({ length: pred.views * 4 * 6 * 8 }, (_, i) => Math.sin(i * layer)) });
    const full = createPrediction({ ...pred, aux: { feat_layer_3: feat(3), feat_layer_1: feat(1) } });
    // gs_video renders and encodes with what the runtime supplies: core's CPU rasterizer and an encoder keeping the frame count.
    const encoder: GsVideoEncoder = { container: 'mp4', encode: async (frames, _spec, sink) => { for await (const f of frames) await sink.write(f.subarray(0, 1)); } };
    const options = { gsVideo: { rasterizer: createCpuRasterizer(), encoder, trajectory: 'original' as const } };
    for (const format of exportFormats()) {
      const written = await exportPrediction(full, format, folder().open, options);
      expect(expectedExportFiles(format, full.views, { exportFeatLayers: [3, 1], gsVideo: options.gsVideo }), format).toEqual(written);
    }
    const all = exportFormats().join('-');
    expect(expectedExportFiles(all, 3, { exportFeatLayers: [1, 3], gsVideo: options.gsVideo })).toEqual(await exportPrediction(full, all, folder().open, options));
    expect(expectedExportFiles('feat_vis', 2, { exportFeatLayers: [1, 3], featVisLayers: [3] })).toEqual(['feat_vis/layer_3/0000.jpg', 'feat_vis/layer_3/0001.jpg']);
    expect(() => expectedExportFiles('glb-pointz', 1)).toThrowError(/unknown format "pointz"/);
    expect(() => expectedExportFiles('glb', 0)).toThrowError(/views must be a positive integer/);
  });

  it('rejects unknown formats naming the valid ones, and missing data with a clear error', async () => {
    expect(() => parseFormats('glb-pointz')).toThrowError(/unknown format "pointz"; one of .*glb/);
    expect(() => parseFormats('')).toThrowError(/no format/);
    expect(parseFormats(['npz', 'npz'])).toEqual(['npz']);
    expect(exportFormats()).toEqual(expect.arrayContaining(['glb', 'mini_npz', 'npz', 'depth_vis', 'conf_vis', 'colmap', 'feat_vis', 'ply', 'gs_ply', 'gs_ply_sh3', 'spz', 'gs_gltf', 'gs_video']));
    const pred = await fixturePrediction('tiny', 'multi');
    await expect(exportPrediction(pred, 'feat_vis', folder().open)).rejects.toMatchObject({ code: 'BAD_VALUE' });
  });
});
