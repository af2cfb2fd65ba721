/**
 * The `da3 gallery` scene viewer (browser code, bundled with three.js into
 * `dist/gallery/viewer.js` at build time and served by the gallery itself: no CDN).
 *
 * Loads the page's `scene.glb` (`data-glb` on <body>, relative to the page) with GLTFLoader: the
 * coloured points (the POINTS primitive) and one wireframe per camera (the LINES meshes written by
 * @da3js/exporters: centre → the four image corners, then the rectangle). Each camera's pose and
 * field of view are recovered from its wireframe, so "view from camera" needs nothing but the GLB.
 *
 * State for tests and scripts: `<body data-state="loading|ready|error" data-points data-cameras
 * data-load-ms>` and `window.da3Gallery`.
 */
import { Box3, Color, LineBasicMaterial, LineSegments, LinearSRGBColorSpace, type Object3D, PerspectiveCamera, Points, PointsMaterial, Scene, Vector3, WebGLRenderer } from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import './viewer.css';

/** A camera recovered from its wireframe (scene frame, glTF axes). */
interface ViewCamera {
  readonly centre: Vector3;
  readonly forward: Vector3;
  readonly up: Vector3;
  /** Vertical field of view, degrees. */
  readonly fov: number;
  readonly aspect: number;
  readonly wireframe: LineSegments;
}

/** `window.da3Gallery`: the viewer's state and actions. */
export interface GalleryViewerHook {
  readonly state: 'loading' | 'ready' | 'error';
  /** Points drawn (the GLB's POINTS vertex count). */
  readonly points: number;
  /** Camera wireframes in the GLB. */
  readonly cameras: number;
  /** Milliseconds from the script's start to the first frame with the scene. */
  readonly loadMs: number;
  readonly error?: string;
  readonly pointSize: number;
  setPointSize(px: number): void;
  fitView(): void;
  /** Looks through camera `i` (its pose and vertical field of view); -1: back to the free orbit. */
  viewFromCamera(i: number): void;
  /** The camera index looked through, or -1. */
  readonly viewing: number;
}

declare global {
  interface Window {
    da3Gallery?: GalleryViewerHook;
  }
}

const started = performance.now();
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const body = document.body;
const stage = byId<HTMLDivElement>('stage');
const canvas = byId<HTMLCanvasElement>('canvas');
const message = byId<HTMLParagraphElement>('message');
const sizeInput = byId<HTMLInputElement>('point-size');
const sizeOutput = byId<HTMLOutputElement>('point-size-value');
const fitButton = byId<HTMLButtonElement>('fit');
const cameraSelect = byId<HTMLSelectElement>('camera-select');
const showCameras = byId<HTMLInputElement>('show-cameras');
const stats = byId<HTMLParagraphElement>('stats');

const hook = {
  state: 'loading' as GalleryViewerHook['state'],
  points: 0,
  cameras: 0,
  loadMs: 0,
  error: undefined as string | undefined,
  pointSize: Number(sizeInput.value) || 2,
  viewing: -1,
  setPointSize: (_px: number) => {},
  fitView: () => {},
  viewFromCamera: (_i: number) => {},
};
window.da3Gallery = hook;

function fail(error: unknown): void {
  const text = error instanceof Error ? error.message : String(error);
  hook.state = 'error';
  hook.error = text;
  body.dataset.state = 'error';
  message.textContent = `Could not show this scene: ${text}`;
  message.hidden = false;
  console.error(`da3 gallery: ${text}`);
}

/** Pose and field of view of a 16-vertex frustum wireframe (see the module comment). */
function cameraFromWireframe(lines: LineSegments): ViewCamera | undefined {
  const pos = lines.geometry.getAttribute('position');
  if (!pos || pos.count < 8) return undefined;
  lines.updateWorldMatrix(true, false);
  const v = (k: number) => new Vector3().fromBufferAttribute(pos, k).applyMatrix4(lines.matrixWorld);
  const centre = v(0);
  const [tl, tr, , bl] = [v(1), v(3), v(5), v(7)];
  const right = tr.clone().sub(tl);
  const down = bl.clone().sub(tl);
  const forward = right.clone().cross(down).normalize();
  const mid = tl.clone().add(tr).add(v(5)).add(bl).multiplyScalar(0.25);
  if (forward.dot(mid.clone().sub(centre)) < 0) forward.negate();
  const depth = tl.clone().sub(centre).dot(forward);
  if (!(depth > 0) || !(down.length() > 0) || !(right.length() > 0)) return undefined;
  const fov = (2 * Math.atan(down.length() / 2 / depth) * 180) / Math.PI;
  return { centre, forward, up: down.clone().normalize().negate(), fov, aspect: right.length() / down.length(), wireframe: lines };
}

/** The 2nd–98th percentile box of the points (world frame), from at most 50,000 of them. */
function robustBox(clouds: readonly Points[]): Box3 {
  const axes: number[][] = [[], [], []];
  const p = new Vector3();
  for (const c of clouds) {
    const pos = c.geometry.getAttribute('position');
    if (!pos) continue;
    c.updateWorldMatrix(true, false);
    const step = Math.max(1, Math.floor(pos.count / 50_000));
    for (let k = 0; k < pos.count; k += step) {
      p.fromBufferAttribute(pos, k).applyMatrix4(c.matrixWorld);
      if (!Number.isFinite(p.x + p.y + p.z)) continue;
      axes[0].push(p.x);
      axes[1].push(p.y);
      axes[2].push(p.z);
    }
  }
  const box = new Box3();
  if (axes[0].length === 0) return box;
  const q = (a: number[], f: number) => a[Math.min(a.length - 1, Math.max(0, Math.round(f * (a.length - 1))))];
  for (const a of axes) a.sort((x, y) => x - y);
  box.min.set(q(axes[0], 0.02), q(axes[1], 0.02), q(axes[2], 0.02));
  box.max.set(q(axes[0], 0.98), q(axes[1], 0.98), q(axes[2], 0.98));
  return box;
}

async function main(): Promise<void> {
  let renderer: WebGLRenderer;
  try {
    renderer = new WebGLRenderer({ canvas, antialias: true });
  } catch (error) {
    throw new Error(`WebGL is not available in this browser (${(error as Error).message})`);
  }
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  // The exporters' COLOR_0 holds the photos' sRGB bytes (as the reference's trimesh writes them):
  // show them as they are instead of encoding them to sRGB a second time.
  renderer.outputColorSpace = LinearSRGBColorSpace;
  const scene = new Scene();
  scene.background = new Color().setHex(0x15171c, LinearSRGBColorSpace); // written as is, like the points
  const camera = new PerspectiveCamera(50, 1, 0.01, 1000);
  const controls = new OrbitControls(camera, canvas);

  let frame = 0;
  const render = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      renderer.render(scene, camera);
    });
  };
  controls.addEventListener('change', render);
  const resize = () => {
    const w = Math.max(1, stage.clientWidth);
    const h = Math.max(1, stage.clientHeight);
    renderer.setSize(w, h, false);
    camera.aspect = w / h;
    camera.updateProjectionMatrix();
    render();
  };
  new ResizeObserver(resize).observe(stage);
  resize();

  const url = new URL(body.dataset.glb ?? 'scene.glb', window.location.href).href;
  const gltf = await new GLTFLoader().loadAsync(url);
  scene.add(gltf.scene);
  gltf.scene.updateMatrixWorld(true);

  const clouds: Points[] = [];
  const wireframes: LineSegments[] = [];
  gltf.scene.traverse((o: Object3D) => {
    if (o instanceof Points) clouds.push(o);
    else if (o instanceof LineSegments) wireframes.push(o);
  });
  const material = new PointsMaterial({ size: hook.pointSize, sizeAttenuation: false, vertexColors: true });
  for (const c of clouds) {
    if (!c.geometry.getAttribute('color')) material.vertexColors = false;
    c.material = material;
    hook.points += c.geometry.getAttribute('position')?.count ?? 0;
  }
  const lineMaterial = new LineBasicMaterial({ vertexColors: true });
  for (const w of wireframes) w.material = lineMaterial;
  const cameras = wireframes.map(cameraFromWireframe).filter((c): c is ViewCamera => c !== undefined);
  hook.cameras = wireframes.length;

  // The scene's extent: the points' 2nd–98th percentiles per axis (a few stray points must not
  // shrink the view), else the whole scene — for fit view, clipping planes and orbit targets.
  const box = robustBox(clouds);
  if (box.isEmpty()) box.setFromObject(gltf.scene);
  const centre = box.isEmpty() ? new Vector3() : box.getCenter(new Vector3());
  const radius = box.isEmpty() ? 1 : Math.max(1e-6, box.getSize(new Vector3()).length() / 2);
  camera.near = radius / 1000;
  camera.far = radius * 100;

  for (const [i] of cameras.entries()) {
    const option = document.createElement('option');
    option.value = String(i);
    option.textContent = `camera ${i}`;
    cameraSelect.append(option);
  }

  hook.setPointSize = (px: number) => {
    const size = Math.min(20, Math.max(0.5, Number(px) || 1));
    hook.pointSize = size;
    material.size = size;
    sizeInput.value = String(size);
    sizeOutput.textContent = String(size);
    render();
  };
  hook.fitView = () => {
    hook.viewing = -1;
    cameraSelect.value = '';
    camera.up.set(0, 1, 0);
    camera.fov = 50;
    // From the first camera's side (the GLB puts it at the origin looking down −z, y up).
    const dir = cameras[0] ? cameras[0].forward.clone().negate() : new Vector3(0, 0, 1);
    const distance = radius / Math.sin((camera.fov * Math.PI) / 360);
    camera.position.copy(centre).addScaledVector(dir, distance);
    controls.target.copy(centre);
    camera.updateProjectionMatrix();
    controls.update();
    render();
  };
  hook.viewFromCamera = (i: number) => {
    const c = cameras[i];
    if (!c) return hook.fitView();
    hook.viewing = i;
    cameraSelect.value = String(i);
    camera.fov = Math.min(150, Math.max(5, c.fov));
    camera.position.copy(c.centre);
    camera.up.copy(c.up);
    // Orbit around the point straight ahead at the scene centre's depth.
    const depth = Math.max(radius * 0.05, centre.clone().sub(c.centre).dot(c.forward));
    controls.target.copy(c.centre).addScaledVector(c.forward, depth);
    camera.lookAt(controls.target);
    camera.updateProjectionMatrix();
    render();
  };

  sizeInput.addEventListener('input', () => hook.setPointSize(Number(sizeInput.value)));
  fitButton.addEventListener('click', () => hook.fitView());
  cameraSelect.addEventListener('change', () => (cameraSelect.value === '' ? hook.fitView() : hook.viewFromCamera(Number(cameraSelect.value))));
  showCameras.addEventListener('change', () => {
    for (const w of wireframes) w.visible = showCameras.checked;
    render();
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.view')) {
    button.addEventListener('click', () => hook.viewFromCamera(Number(button.dataset.view)));
  }
  if (cameras.length === 0) cameraSelect.disabled = true;

  hook.fitView();
  await new Promise<void>((ok) => requestAnimationFrame(() => ok()));
  renderer.render(scene, camera);
  hook.loadMs = Math.round(performance.now() - started);
  hook.state = 'ready';
  message.hidden = true;
  stats.textContent = `${hook.points.toLocaleString('en-US')} points · ${hook.cameras} cameras · shown in ${hook.loadMs} ms`;
  Object.assign(body.dataset, { points: String(hook.points), cameras: String(hook.cameras), loadMs: String(hook.loadMs), state: 'ready' });
}

main().catch(fail);
