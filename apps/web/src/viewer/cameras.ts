/**
 * Camera frustums: per view, lines from the camera centre to the four image corners on a plane
 * `scale` in front of it, and the rectangle, coloured like the GLB export (exporters'
 * `cameraColor`). Built in world (OpenCV) coordinates, shown in three.js axes.
 */
import { cameraColor } from '@da3js/exporters';
import * as THREE from 'three';

/** Line-segment endpoints (8 segments, 16 points, world OpenCV axes) of view `i`'s frustum. */
export function frustumSegments(K: ArrayLike<number>, w2c: ArrayLike<number>, i: number, width: number, height: number, scale: number): Float64Array {
  const k = Array.from({ length: 9 }, (_, j) => K[9 * i + j]);
  const e = Array.from({ length: 12 }, (_, j) => w2c[12 * i + j]);
  // Camera → world: x_w = Rᵀ (x_c − t).
  const toWorld = (x: number, y: number, z: number): number[] => {
    const a = x - e[3];
    const b = y - e[7];
    const c = z - e[11];
    return [e[0] * a + e[4] * b + e[8] * c, e[1] * a + e[5] * b + e[9] * c, e[2] * a + e[6] * b + e[10] * c];
  };
  const centre = toWorld(0, 0, 0);
  // Pixel (u, v) on the z = scale plane (K upper-triangular: the usual pinhole intrinsics).
  const corner = (u: number, v: number) => {
    const y = (v - k[5]) / k[4];
    const x = (u - k[2] - k[1] * y) / k[0];
    return toWorld(x * scale, y * scale, scale);
  };
  const c = [corner(0, 0), corner(width - 1, 0), corner(width - 1, height - 1), corner(0, height - 1)];
  const segs = [centre, c[0], centre, c[1], centre, c[2], centre, c[3], c[0], c[1], c[1], c[2], c[2], c[3], c[3], c[0]];
  return Float64Array.from(segs.flat());
}

/** A group of `LineSegments`, one per view, in three.js axes. */
export function createCameraFrustums(K: ArrayLike<number>, w2c: ArrayLike<number>, views: number, width: number, height: number, scale: number): THREE.Group {
  const group = new THREE.Group();
  group.name = 'cameras';
  for (let i = 0; i < views; i++) {
    const s = frustumSegments(K, w2c, i, width, height, scale);
    const pos = new Float32Array(s.length);
    for (let j = 0; j < s.length; j += 3) {
      pos[j] = s[j];
      pos[j + 1] = -s[j + 1];
      pos[j + 2] = -s[j + 2];
    }
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(pos, 3));
    const [r, gr, b] = cameraColor(i, views);
    const line = new THREE.LineSegments(g, new THREE.LineBasicMaterial({ color: new THREE.Color().setRGB(r / 255, gr / 255, b / 255) }));
    line.name = `camera_${i}`;
    group.add(line);
  }
  return group;
}
