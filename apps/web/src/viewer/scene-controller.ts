/**
 * Keeps the viewer in step with the prediction and the viewer controls (confidence percentile,
 * max points, cameras on/off, background filters, background colour): rebuilds the cloud and the
 * frustums when any of them changes.
 */
import type { Prediction } from '@da3js/core';
import * as THREE from 'three';
import { byId } from '../dom.js';
import { createCameraFrustums } from './cameras.js';
import { type CloudOptions, buildCloud, extrinsicsOf, intrinsicsOf } from './cloud.js';
import type { Viewer } from './viewer.js';

/** The viewer controls' values. */
export interface ViewerSettings extends CloudOptions {
  readonly showCameras: boolean;
  readonly background: string;
}

/** Reads the viewer controls. */
export function readViewerSettings(): ViewerSettings {
  return {
    confPercentile: Number(byId<HTMLInputElement>('conf-percentile').value),
    maxPoints: Number(byId<HTMLInputElement>('max-points').value) || 1_000_000,
    filterBlackBg: byId<HTMLInputElement>('filter-black').checked,
    filterWhiteBg: byId<HTMLInputElement>('filter-white').checked,
    showCameras: byId<HTMLInputElement>('show-cameras').checked,
    background: byId<HTMLInputElement>('background').value,
  };
}

/** Drives the viewer from a prediction and the controls. */
export class SceneController {
  private prediction: Prediction | null = null;
  /** Points currently drawn. */
  pointsShown = 0;

  constructor(private readonly viewer: Viewer) {
    for (const id of ['conf-percentile', 'max-points', 'filter-black', 'filter-white']) byId(id).addEventListener('change', () => this.update());
    byId('conf-percentile').addEventListener('input', () => {
      byId('conf-percentile-value').textContent = byId<HTMLInputElement>('conf-percentile').value;
    });
    byId('show-cameras').addEventListener('change', () => this.updateCameras());
    byId('background').addEventListener('input', () => viewer.setBackground(readViewerSettings().background));
    viewer.setBackground(readViewerSettings().background);
  }

  /** Shows a new prediction, aimed from the first view's camera. */
  setPrediction(p: Prediction): void {
    this.prediction = p;
    this.update(true);
  }

  /** Rebuilds the cloud (and frustums) from the current settings. */
  update(frame = false): void {
    const p = this.prediction;
    if (!p) return;
    const s = readViewerSettings();
    const cloud = buildCloud(p, s);
    this.pointsShown = cloud.count;
    const E = extrinsicsOf(p);
    // Camera 0's centre, three.js axes: −Rᵀt with y and z flipped.
    const c = [0, 1, 2].map((j) => -(E[j] * E[3] + E[4 + j] * E[7] + E[8 + j] * E[11]));
    this.viewer.setCloud(cloud, { frame, eye: new THREE.Vector3(c[0], -c[1], -c[2]) });
    this.updateCameras();
    byId('viewer-stats').textContent = `${cloud.count.toLocaleString()} of ${cloud.valid.toLocaleString()} points`;
  }

  private updateCameras(): void {
    const p = this.prediction;
    if (!p || !readViewerSettings().showCameras || !p.extrinsics) {
      this.viewer.setCameras(null);
      return;
    }
    const scale = 0.1 * this.viewer.sceneRadius();
    this.viewer.setCameras(createCameraFrustums(intrinsicsOf(p), extrinsicsOf(p), p.views, p.width, p.height, scale));
  }
}
