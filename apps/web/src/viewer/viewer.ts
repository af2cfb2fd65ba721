/**
 * The 3D viewer: a WebGL2 three.js canvas with OrbitControls showing the point cloud and camera
 * frustums, rendered on demand. Colours are shown as stored (no colour management), so the
 * processed images' bytes and the background colour reach the screen unchanged.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { CloudData } from './cloud.js';
import { createPointCloud, disposeObject } from './point-cloud.js';

THREE.ColorManagement.enabled = false;

/** A page position in CSS pixels (what `MouseEvent.clientX/Y` and Playwright's mouse use). */
export interface ScreenPoint {
  readonly x: number;
  readonly y: number;
}

/** The viewer. Call {@link Viewer.render} after changing anything by hand. */
export class Viewer {
  readonly renderer: THREE.WebGLRenderer;
  readonly scene = new THREE.Scene();
  readonly camera = new THREE.PerspectiveCamera(60, 1, 0.01, 1000);
  readonly controls: OrbitControls;
  /** The point cloud shown, with the data it came from. */
  points: THREE.Points | null = null;
  cloud: CloudData | null = null;
  private cameras: THREE.Group | null = null;
  /** Overlays (measure markers); kept across cloud updates. */
  readonly overlay = new THREE.Group();
  /** Called after every frame drawn (splat mode counts its frames with it). */
  readonly afterRender = new Set<() => void>();
  /** Time (ms, on this thread) of the last frame's draw call; the GPU may still be working. */
  lastDrawMs = 0;
  private pending = false;
  private pointsHidden = false;

  constructor(readonly container: HTMLElement) {
    this.renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
    this.renderer.outputColorSpace = THREE.LinearSRGBColorSpace;
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    container.appendChild(this.renderer.domElement);
    const canvas = this.renderer.domElement;
    // Keyboard: focus the view (Tab) and pan with the arrow keys; touch and pen go through pointer events.
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', '3D point cloud: drag to orbit, scroll or pinch to zoom, arrow keys to pan');
    canvas.style.touchAction = 'none';
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.listenToKeyEvents(canvas);
    this.controls.addEventListener('change', () => this.render());
    this.scene.add(this.overlay);
    this.setBackground('#202124');
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
  }

  /** The canvas element. */
  get canvas(): HTMLCanvasElement {
    return this.renderer.domElement;
  }

  /** Sets the background colour (CSS hex). */
  setBackground(hex: string): void {
    this.scene.background = new THREE.Color(hex);
    this.render();
  }

  /** Replaces the point cloud; `frame` re-aims the camera at it (`eye`: a camera centre, three.js axes). */
  setCloud(cloud: CloudData, options: { frame?: boolean; eye?: THREE.Vector3 } = {}): void {
    if (this.points) {
      this.scene.remove(this.points);
      disposeObject(this.points);
    }
    this.cloud = cloud;
    this.points = createPointCloud(cloud);
    this.points.visible = !this.pointsHidden;
    this.scene.add(this.points);
    if (options.frame) this.frame(options.eye);
    this.render();
  }

  /** Hides the point cloud (also the clouds set later) while something else shows the scene. */
  setPointsHidden(hidden: boolean): void {
    this.pointsHidden = hidden;
    if (this.points) this.points.visible = !hidden;
    this.render();
  }

  /** Replaces the camera frustums (`null` hides them). */
  setCameras(group: THREE.Group | null): void {
    if (this.cameras) {
      this.scene.remove(this.cameras);
      disposeObject(this.cameras);
    }
    this.cameras = group;
    if (group) this.scene.add(group);
    this.render();
  }

  /** Radius of the cloud's bounding sphere (1 when empty). */
  sceneRadius(): number {
    const s = this.points?.geometry.boundingSphere;
    return s && s.radius > 0 && Number.isFinite(s.radius) ? s.radius : 1;
  }

  /** Aims the camera: from `eye` (default: in front of the cloud) at the cloud's centre. */
  frame(eye?: THREE.Vector3): void {
    const sphere = this.points?.geometry.boundingSphere ?? new THREE.Sphere(new THREE.Vector3(), 1);
    const r = this.sceneRadius();
    const target = sphere.center.clone();
    let from = eye?.clone() ?? target.clone().add(new THREE.Vector3(0, 0, 2.5 * r));
    if (from.distanceTo(target) < 1e-6 * r) from = target.clone().add(new THREE.Vector3(0, 0, 2.5 * r));
    // Step back a little from the view's own camera so the frustums are in sight.
    from = target.clone().add(from.sub(target).multiplyScalar(1.3));
    this.camera.near = Math.max(1e-4, r / 1000);
    this.camera.far = r * 100 + from.distanceTo(target) * 10;
    this.camera.position.copy(from);
    this.camera.up.set(0, 1, 0);
    this.controls.target.copy(target);
    this.camera.lookAt(target);
    this.camera.updateProjectionMatrix();
    this.controls.update();
  }

  /** Matches the drawing buffer to the container's size. */
  resize(): void {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  /** Renders (coalesced to one frame, or now with `sync`). */
  render(sync = false): void {
    if (sync) {
      this.pending = false;
      this.draw();
      return;
    }
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      if (!this.pending) return;
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    const t = performance.now();
    this.renderer.render(this.scene, this.camera);
    this.lastDrawMs = performance.now() - t;
    for (const f of this.afterRender) f();
  }

  /** Page position (CSS px) of a world point given in OpenCV axes. */
  project(x: number, y: number, z: number): ScreenPoint {
    const v = new THREE.Vector3(x, -y, -z).project(this.camera);
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + ((v.x + 1) / 2) * rect.width, y: rect.top + ((1 - v.y) / 2) * rect.height };
  }

  /** The picking ray (three.js axes) through a page position. */
  rayAt(clientX: number, clientY: number): THREE.Ray {
    const rect = this.canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(((clientX - rect.left) / rect.width) * 2 - 1, 1 - ((clientY - rect.top) / rect.height) * 2);
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(ndc, this.camera);
    return raycaster.ray;
  }

  /** World size of `px` screen pixels at the orbit target's distance. */
  pixelsToWorld(px: number): number {
    const d = this.camera.position.distanceTo(this.controls.target);
    const h = this.canvas.getBoundingClientRect().height || 1;
    return (2 * d * Math.tan(THREE.MathUtils.degToRad(this.camera.fov) / 2) * px) / h;
  }
}
