/**
 * The measure tool: with the tool on, two clicks on the point cloud pick two points (a raycast
 * on the `Points` with a threshold of a few screen pixels, the hit nearest the ray wins) and the
 * distance between their float64 world points is shown — metres for metric predictions, else
 * model units. Markers and a line show the picks.
 */
import * as THREE from 'three';
import { type Vec3, closestHit, distance3, formatDistance } from './measure.js';
import type { Viewer } from './viewer.js';

/** Picking tolerance in screen pixels. */
export const PICK_PIXELS = 6;

/** What the tool has measured. */
export interface MeasureState {
  /** World points (OpenCV axes) picked so far in the current measurement (0, 1 or 2). */
  readonly picks: readonly Vec3[];
  /** The last completed distance, or `null`. */
  readonly lastDistance: number | null;
}

/** The measure tool bound to a viewer, a toggle button and an output element. */
export class MeasureTool {
  private enabled = false;
  private picks: Vec3[] = [];
  private last: number | null = null;
  private metric = false;
  private downAt: { x: number; y: number } | null = null;

  constructor(
    private readonly viewer: Viewer,
    private readonly toggle: HTMLButtonElement,
    private readonly output: HTMLElement,
  ) {
    toggle.addEventListener('click', () => this.setEnabled(!this.enabled));
    const canvas = viewer.canvas;
    canvas.addEventListener('pointerdown', (e) => {
      this.downAt = { x: e.clientX, y: e.clientY };
    });
    canvas.addEventListener('click', (e) => {
      const moved = this.downAt ? Math.hypot(e.clientX - this.downAt.x, e.clientY - this.downAt.y) : 0;
      if (this.enabled && moved < 4) this.pickAt(e.clientX, e.clientY);
    });
  }

  /** Current state (for the automation hook). */
  state(): MeasureState {
    return { picks: [...this.picks], lastDistance: this.last };
  }

  /** Turns the tool on or off (off clears the picks). */
  setEnabled(on: boolean): void {
    this.enabled = on;
    this.toggle.setAttribute('aria-pressed', String(on));
    this.viewer.container.classList.toggle('measuring', on);
    if (!on) this.clearMarkers();
    this.output.textContent = on ? 'Click two points…' : this.output.textContent;
  }

  /** Forgets the measurement (a new prediction); `metric` sets the unit. */
  reset(metric: boolean): void {
    this.metric = metric;
    this.picks = [];
    this.last = null;
    this.clearMarkers();
    this.output.textContent = '';
  }

  /** Picks the point under a page position; returns its world point, or `null` when nothing is near. */
  pickAt(clientX: number, clientY: number): Vec3 | null {
    const { points, cloud } = this.viewer;
    if (!points || !cloud) return null;
    const raycaster = new THREE.Raycaster();
    raycaster.ray.copy(this.viewer.rayAt(clientX, clientY));
    raycaster.params.Points = { threshold: this.viewer.pixelsToWorld(PICK_PIXELS) };
    const hit = closestHit(raycaster.intersectObject(points, false));
    if (!hit || hit.index === undefined) {
      this.output.textContent = 'No point there — click on the cloud.';
      return null;
    }
    const i = hit.index;
    const p: Vec3 = [cloud.world[3 * i], cloud.world[3 * i + 1], cloud.world[3 * i + 2]];
    if (this.picks.length === 2) {
      this.picks = [];
      this.clearMarkers();
    }
    this.picks.push(p);
    this.addMarker(p);
    if (this.picks.length === 2) {
      this.last = distance3(this.picks[0], this.picks[1]);
      this.addLine(this.picks[0], this.picks[1]);
      this.output.textContent = `Distance: ${formatDistance(this.last, this.metric)}`;
      this.output.dataset.distance = String(this.last);
    } else {
      this.output.textContent = 'Click the second point…';
    }
    this.viewer.render();
    return p;
  }

  private addMarker(p: Vec3): void {
    const r = this.viewer.pixelsToWorld(4);
    const m = new THREE.Mesh(new THREE.SphereGeometry(r, 12, 8), new THREE.MeshBasicMaterial({ color: 0xffcc00, depthTest: false }));
    m.position.set(p[0], -p[1], -p[2]);
    m.renderOrder = 10;
    this.viewer.overlay.add(m);
  }

  private addLine(a: Vec3, b: Vec3): void {
    const g = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(a[0], -a[1], -a[2]), new THREE.Vector3(b[0], -b[1], -b[2])]);
    const line = new THREE.Line(g, new THREE.LineBasicMaterial({ color: 0xffcc00, depthTest: false }));
    line.renderOrder = 10;
    this.viewer.overlay.add(line);
  }

  private clearMarkers(): void {
    for (const o of [...this.viewer.overlay.children]) {
      this.viewer.overlay.remove(o);
      const m = o as THREE.Mesh;
      m.geometry.dispose();
      (m.material as THREE.Material).dispose();
    }
    this.viewer.render();
  }
}
