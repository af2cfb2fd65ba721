import * as THREE from 'three';
import { describe, expect, it } from 'vitest';
import { renderCameraFromThree, splatRenderSize } from '../../src/viewer/splats.js';

describe('splat mode maths', () => {
  it('gives a RenderCamera that puts world points (OpenCV axes) where three.js draws them', () => {
    const cam = new THREE.PerspectiveCamera(50, 640 / 400, 0.01, 100);
    cam.position.set(0.7, 0.4, 2.5);
    cam.up.set(0, 1, 0);
    cam.lookAt(new THREE.Vector3(0.1, -0.2, -3));
    cam.zoom = 1.3;
    cam.updateProjectionMatrix();
    const rc = renderCameraFromThree(cam, 640, 400);
    const e = rc.extrinsics;
    const k = rc.intrinsics;
    for (const p of [
      [0, 0, 3],
      [0.5, -0.3, 4],
      [-1, 0.8, 2.2],
    ]) {
      // OpenCV world → camera → pixel with the RenderCamera
      const c = [0, 1, 2].map((r) => e[4 * r] * p[0] + e[4 * r + 1] * p[1] + e[4 * r + 2] * p[2] + e[4 * r + 3]);
      expect(c[2]).toBeGreaterThan(0);
      const u = (k[0] * c[0]) / c[2] + k[2];
      const v = (k[4] * c[1]) / c[2] + k[5];
      // three.js: the viewer shows OpenCV (x, y, z) at (x, −y, −z)
      const ndc = new THREE.Vector3(p[0], -p[1], -p[2]).project(cam);
      expect(u).toBeCloseTo(((ndc.x + 1) / 2) * 640, 6);
      expect(v).toBeCloseTo(((1 - ndc.y) / 2) * 400, 6);
    }
  });

  it('caps the render size, keeping the aspect', () => {
    expect(splatRenderSize(320, 200)).toEqual({ width: 320, height: 200 });
    const s = splatRenderSize(1280, 800);
    expect(s.width * s.height).toBeLessThanOrEqual(640 * 480 + 1300);
    expect(s.width / s.height).toBeCloseTo(1.6, 2);
  });
});
