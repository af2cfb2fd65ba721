/**
 * Blender (Debian's 3.4 `blender`) imports our GLBs with its own glTF importer: the point cloud
 * with the expected vertex count and colours, one object per camera wireframe (8 edges), and the
 * KHR_gaussian_splatting GLB as a point cloud (Blender ignores the extension; the POINTS fallback
 * is what it shows). Without blender: fails under CI, skips with a message otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gaussians } from '@da3js/core';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import { writeGaussiansGltf, writeGlb } from '../src/glb/index.js';
import { memorySink } from '../src/writer.js';
import { BLENDER, requireBlender } from './helpers/shared.js';

const SCRIPT = join(__dirname, 'blender', 'glb_import.py');

interface BlenderObject {
  name: string;
  type: string;
  vertices?: number;
  edges?: number;
  faces?: number;
  colors?: string[];
}
interface BlenderResult {
  file: string;
  ok: boolean;
  error?: string;
  blender: number[];
  objects: BlenderObject[];
}

function runBlender(files: string[]): BlenderResult[] {
  const r = spawnSync(BLENDER, ['-b', '--factory-startup', '--python', SCRIPT, '--', ...files], { encoding: 'utf8', timeout: 180_000, maxBuffer: 1 << 26 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('DA3JS_GLB '))
    .map((l) => JSON.parse(l.slice('DA3JS_GLB '.length)) as BlenderResult);
  if (lines.length !== files.length) throw new Error(`blender: expected ${files.length} results (exit ${r.status}), got:\n${r.stdout}\n${r.stderr}`);
  return lines;
}

const tmp = mkdtempSync(join(tmpdir(), 'da3js-glb-blender-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Blender imports the GLBs', () => {
  it('scene.glb (with and without cameras) and the KHR_gaussian_splatting GLB', async (ctx) => {
    if (!requireBlender(ctx)) return;
    const p = await fixturePrediction('tiny', 'multi');
    const files: string[] = [];
    const reports = [];
    for (const showCameras of [true, false]) {
      const sink = memorySink();
      reports.push(await writeGlb(p, sink, { showCameras }));
      const f = join(tmp, `scene-${showCameras ? 'cams' : 'nocams'}.glb`);
      writeFileSync(f, sink.bytes());
      files.push(f);
    }
    const n = 4321;
    const g: Gaussians = {
      count: n,
      shCoefficients: 9,
      means: Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i * 1.7) * 2),
      scales: Float32Array.from({ length: 3 * n }, (_, i) => 0.01 + 0.01 * Math.abs(Math.cos(i))),
      rotations: Float32Array.from({ length: 4 * n }, (_, i) => (i % 4 === 3 ? 1 : 0.1 * Math.sin(i))),
      harmonics: Float32Array.from({ length: 27 * n }, (_, i) => 0.5 * Math.sin(i * 0.37)),
      opacities: Float32Array.from({ length: n }, (_, i) => 0.5 + 0.4 * Math.sin(i)),
    };
    const gs = memorySink();
    await writeGaussiansGltf(g, gs);
    const gf = join(tmp, 'gaussians.glb');
    writeFileSync(gf, gs.bytes());
    files.push(gf);

    const [cams, nocams, splats] = runBlender(files);
    for (const r of [cams, nocams, splats]) expect(r.ok, r.error).toBe(true);
    const meshes = (r: BlenderResult) => r.objects.filter((o) => o.type === 'MESH');
    const points = (r: BlenderResult) => meshes(r).filter((o) => (o.edges ?? 0) === 0);
    const wires = (r: BlenderResult) => meshes(r).filter((o) => (o.edges ?? 0) > 0);
    // Points: one object, every point a vertex, no edges/faces, with a colour attribute.
    for (const [r, rep] of [
      [cams, reports[0]],
      [nocams, reports[1]],
    ] as const) {
      expect(points(r).length).toBe(1);
      expect(points(r)[0].vertices).toBe(rep.points);
      expect(points(r)[0].faces).toBe(0);
      expect(points(r)[0].colors?.length).toBeGreaterThan(0);
    }
    // Cameras: N objects of 8 edges each.
    expect(wires(cams).length).toBe(p.views);
    for (const w of wires(cams)) {
      expect(w.edges).toBe(8);
      expect(w.name).toMatch(/^camera_\d{3}/);
    }
    expect(wires(nocams).length).toBe(0);
    // Gaussians: a point cloud of n vertices.
    expect(meshes(splats).length).toBe(1);
    expect(meshes(splats)[0]).toMatchObject({ vertices: n, edges: 0, faces: 0 });
    console.log(
      `Blender ${cams.blender.join('.')}: scene.glb → ${points(cams)[0].vertices} points + ${wires(cams).length} camera objects; gaussians → ${meshes(splats)[0].vertices} vertices`,
    );
  }, 240_000);
});
