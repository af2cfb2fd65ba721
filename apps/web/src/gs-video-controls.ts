/**
 * "Render video" options of the gs_video download: the reference's trajectory and quality
 * presets. The video itself is the `gs_video` download button (rendered in the worker with the
 * CPU rasterizer, encoded with WebCodecs H.264 → MP4).
 */
import { TRAJECTORY_MODES, type TrajectoryMode } from '@da3js/core';
import type { GsVideoOptions, GsVideoQuality } from '@da3js/exporters';
import { byId, fillSelect } from './dom.js';

/** The controls' current choice, as `ExportOptions.gsVideo` (plain data: it is posted to the worker). */
export interface GsVideoControls {
  options(): Pick<GsVideoOptions, 'trajectory' | 'quality'>;
}

const QUALITIES: readonly (readonly [GsVideoQuality, string])[] = [
  ['high', 'high (crf 18)'],
  ['medium', 'medium (crf 23)'],
  ['low', 'low (crf 28)'],
];

/** Adds the trajectory and quality selects under the downloads (ids `gs-trajectory`, `gs-quality`). */
export function createGsVideoControls(): GsVideoControls {
  const box = document.createElement('fieldset');
  box.className = 'gs-video-options';
  box.innerHTML = '<legend>Render video (gs_video)</legend>';
  const trajectory = document.createElement('select');
  trajectory.id = 'gs-trajectory';
  fillSelect(trajectory, TRAJECTORY_MODES, 'extend');
  const quality = document.createElement('select');
  quality.id = 'gs-quality';
  fillSelect(quality, QUALITIES, 'high');
  for (const [label, select] of [
    ['Trajectory', trajectory],
    ['Quality', quality],
  ] as const) {
    const l = document.createElement('label');
    l.textContent = `${label} `;
    l.appendChild(select);
    box.appendChild(l);
  }
  byId('downloads-section').appendChild(box);
  return {
    options: () => ({ trajectory: trajectory.value as TrajectoryMode, quality: quality.value as GsVideoQuality }),
  };
}
