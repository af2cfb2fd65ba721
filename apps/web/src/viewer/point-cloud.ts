/** The three.js object of the point cloud (a `Points` with per-vertex colours). */
import * as THREE from 'three';
import type { CloudData } from './cloud.js';

/** A `THREE.Points` for the cloud, `size` pixels per point (not attenuated with distance). */
export function createPointCloud(cloud: CloudData, size = 2): THREE.Points {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(cloud.positions, 3));
  geometry.setAttribute('color', new THREE.BufferAttribute(cloud.colors, 3, true));
  geometry.computeBoundingSphere();
  const material = new THREE.PointsMaterial({ size, sizeAttenuation: false, vertexColors: true });
  const points = new THREE.Points(geometry, material);
  points.name = 'points';
  return points;
}

/** Frees the GPU buffers of an object made by {@link createPointCloud} or the camera builder. */
export function disposeObject(obj: THREE.Object3D): void {
  obj.traverse((o) => {
    const m = o as THREE.Mesh;
    m.geometry?.dispose();
    const mat = m.material as THREE.Material | THREE.Material[] | undefined;
    if (Array.isArray(mat)) for (const x of mat) x.dispose();
    else mat?.dispose();
  });
}
