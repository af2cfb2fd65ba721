/**
 * The add-on in Debian's Blender (headless, fresh profile): install the built zip, enable it, and
 * import what `@da3js/exporters` writes for the tiny model's fixture prediction — results.npz,
 * mini_npz, scene.glb, binary and ASCII point PLY, a 3DGS PLY, the whole export folder, corrupt
 * files. Cameras are checked through Blender's own camera code (its projection matrix and
 * `world_to_camera_view`) against the prediction's intrinsics and extrinsics, and a Workbench
 * render from camera 0 is compared with the depth map's valid mask.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memorySink, writePly } from '@da3js/exporters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addonZip, requireBlender, runBlender, script } from './helpers/blender.js';
import { type ImportFixtures, writeImportFixtures } from './helpers/fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: the JSON the Blender script prints
type Json = any;

const tmp = mkdtempSync(join(tmpdir(), 'da3js-blender-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let fx: ImportFixtures;
beforeAll(async () => {
  fx = await writeImportFixtures(join(tmp, 'fixtures'));
});

describe('the add-on imports DA3 results in Blender', () => {
  it('installs from the zip and imports npz, mini_npz, glb, PLY, 3DGS PLY and folders with exact cameras', async (ctx) => {
    if (!requireBlender(ctx)) return;
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    const run = await runBlender<Json>(script('check_import.py'), [addonZip(), fx.expected, tmp], join(tmp, 'profile'));
    const r = run.result;
    expect(r.ok, `${r.error}\n${r.traceback}`).toBe(true);
    const p = fx.prediction;
    const [N, H, W] = [p.views, p.height, p.width];

    // Installed as a legacy add-on (Blender 3.4) from the same zip that carries the manifest.
    expect(r.bl_info_version).toEqual(version.split(/[.+-]/).slice(0, 3).map(Number));
    expect(r.manifest).toContain(`version = "${version}"`);
    expect(r.manifest).toContain('id = "da3_blender"');
    expect(r.installed_files).toEqual(expect.arrayContaining(['__init__.py', 'blender_manifest.toml', 'LICENSE', 'remote', 'readers']));

    // results.npz: every valid pixel a point, in the right place, with its attributes.
    const npz = r.npz;
    expect(npz.status).toEqual(['FINISHED']);
    expect(npz.types).toEqual(['CAMERA', 'CAMERA', 'CAMERA', 'EMPTY', 'MESH', 'MESH', 'MESH', 'MESH']);
    expect(npz.root).toEqual({ is_root: true, is_metric: false, scale: 1 });
    const pts = npz.points;
    expect(pts.count).toBe(pts.expected_count);
    expect(pts.count).toBe(N * H * W);
    expect(pts.position_max_error).toBeLessThan(1e-6 * pts.position_scale * 10);
    expect(pts.attributes).toEqual(['color', 'conf', 'conf_rank', 'da3_footprint', 'view']);
    expect(pts.color_range[0]).toBeGreaterThanOrEqual(0);
    expect(pts.color_range[1]).toBeLessThanOrEqual(1);
    expect(pts.color_range[1]).toBeGreaterThan(pts.color_range[0]);
    expect(pts.conf_range[0]).toBeCloseTo(pts.expected_conf_range[0], 2);
    expect(pts.conf_range[1]).toBeCloseTo(pts.expected_conf_range[1], 2);
    expect(pts.conf_rank_range[0]).toBeGreaterThanOrEqual(0);
    expect(pts.conf_rank_range[1]).toBe(100);
    expect(pts.view_counts).toEqual(pts.expected_view_counts);
    expect(pts.footprint_min).toBeGreaterThan(0);
    expect(pts.modifiers).toEqual(['NODES']);
    // The Geometry Nodes filter keeps exactly conf >= percentile(conf, p), live.
    expect(pts.filtered_count).toBe(pts.expected_filtered_count);
    expect(pts.p90_count).toBe(pts.expected_p90_count);
    expect(pts.view1_count).toBe(pts.expected_view1_count);
    expect(pts.filtered_count).toBeLessThan(pts.count);
    // The point cloud keeps the attributes, plus the copy of the colour the material renders.
    expect(pts.evaluated_attributes).toEqual(expect.arrayContaining(['color', 'conf', 'conf_rank', 'da3_color', 'view', 'radius']));

    // Cameras: focal, principal point (shift) and pose through Blender's own camera maths.
    expect(npz.cameras).toHaveLength(N);
    for (const [i, cam] of npz.cameras.entries()) {
      expect(cam.view).toBe(i);
      expect(cam.sensor_fit).toBe('HORIZONTAL');
      expect(cam.resolution).toEqual([W, H]);
      expect(cam.background).toEqual({ size: [W, H], packed: true, frame_method: 'STRETCH' });
      expect(cam.background_pixel_error).toBeLessThan(1e-3);
    }
    expect(npz.camera_intrinsics_max_rel_error).toBeLessThan(1e-5);
    expect(npz.camera_matrix_max_error).toBeLessThan(1e-5);
    expect(npz.projection_points).toBeGreaterThan(100);
    expect(npz.projection_max_error_px).toBeLessThan(1e-3);
    expect(npz.depth_meshes).toHaveLength(N);
    for (const m of npz.depth_meshes) expect(m).toMatchObject({ vertices: H * W, uv: 1 });
    // Render check: camera 0's silhouette of view 0's points vs the valid mask.
    expect(npz.render.size).toEqual([W, H]);
    expect(npz.render.iou).toBeGreaterThanOrEqual(0.9);

    // mini_npz: the same cameras and points, no images.
    expect(r.mini_npz).toMatchObject({ status: ['FINISHED'], cameras: N, points: N * H * W, backgrounds: 0 });
    expect(r.mini_npz.matrix_max_error).toBeLessThan(1e-5);

    // PLY: the exporter's filtered points (binary and ASCII agree exactly).
    const ply = await writePly(p, memorySink(), { confPercentile: 40 });
    expect(r.ply.ply).toMatchObject({ status: ['FINISHED'], objects: ['EMPTY', 'MESH'], points: ply.points });
    expect(r.ply.asciiPly.points).toBe(ply.points);
    expect(r.ply.ascii_vs_binary_max_error).toBe(0);

    // scene.glb: hf_alignment undone (points on top of the PLY's), cameras rebuilt from frustums.
    expect(r.glb).toMatchObject({ status: ['FINISHED'], cameras: N, points: ply.points });
    expect(r.glb.points_vs_ply_max_error).toBeLessThan(1e-5);
    expect(r.glb.camera_intrinsics_max_rel_error).toBeLessThan(1e-5);
    expect(r.glb.camera_matrix_max_error).toBeLessThan(1e-5);

    // 3DGS PLY: every property kept under its name, means in the object's OpenCV frame.
    const gs = r.gaussians;
    expect(gs.status).toEqual(['FINISHED']);
    expect(gs.count).toBe(fx.gaussians.count);
    const props = ['color', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3', ...Array.from({ length: 45 }, (_, i) => `f_rest_${i}`)];
    expect(gs.attributes).toEqual(expect.arrayContaining(props));
    expect(gs.means_max_error).toBeLessThan(1e-6);
    expect(gs.opacity_max_error).toBeLessThan(1e-6);
    expect(gs.object_rotation_error).toBeLessThan(1e-6);
    expect(gs.evaluated).toBe(fx.gaussians.count);

    // A whole export folder: npz cameras + points, and the Gaussians beside them.
    expect(r.folder.status).toEqual(['FINISHED']);
    expect(r.folder.names).toEqual(['DA3 export', 'export Camera 000', 'export Camera 001', 'export Camera 002', 'export Gaussians', 'export Points']);

    // Units: a relative scene takes the user's scale, a metric one stays in metres.
    expect(r.units_relative).toEqual({ is_metric: false, scale: 2.5, object_scale: [2.5, 2.5, 2.5], after_set: [4, 4, 4] });
    expect(r.units_metric).toEqual({ is_metric: true, scale: 1 });

    // Corrupt input: a typed report, no traceback, nothing created.
    for (const key of ['badNpz', 'badGlb', 'badPly', 'emptyDir']) {
      expect(r.errors[key].raised, key).toBe(true);
      expect(r.errors[key].message).toMatch(/DA3 import: \[BAD_FILE\] /);
      expect(r.errors[key].message).not.toMatch(/Traceback/);
      expect(r.errors[key].objects_created).toBe(0);
    }
    console.log(
      `Blender ${r.blender.join('.')} (${run.ms} ms): camera K max rel error ${npz.camera_intrinsics_max_rel_error.toExponential(2)}, matrix ${npz.camera_matrix_max_error.toExponential(2)}, projection ${npz.projection_max_error_px.toExponential(2)} px over ${npz.projection_points} points; glb cameras ${r.glb.camera_intrinsics_max_rel_error.toExponential(2)} / ${r.glb.camera_matrix_max_error.toExponential(2)}; render IoU ${npz.render.iou.toFixed(4)}`,
    );
  }, 180_000);
});
