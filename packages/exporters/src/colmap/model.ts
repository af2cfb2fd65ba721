/**
 * The in-memory COLMAP sparse model (what `cameras`, `images` and `points3D` hold), shared by the
 * text and binary readers and writers.
 *
 * Conventions (COLMAP's own, see its `reconstruction_io_*.cc` and `sensor/models.h`):
 * - an image's pose is `cam_from_world` (world→camera, OpenCV axes: x right, y down, z forward):
 *   a unit quaternion **w first** `[qw, qx, qy, qz]` and a translation `[tx, ty, tz]`,
 *   `x_cam = R(q) · x_world + t`;
 * - pixel coordinates of `POINTS2D` are in the image's pixels (COLMAP puts the upper-left pixel's
 *   centre at (0.5, 0.5); writers in this package say which convention they use);
 * - ids: cameras and images `uint32`, points `uint64` (JS numbers, safe integers only here);
 *   `-1` in {@link ColmapImage.point3DIds} means "no 3D point" (COLMAP's `kInvalidPoint3DId`,
 *   `2^64 − 1` in the binary files, `-1` in the text files).
 */
import { Da3Error } from '@da3js/core';

/** COLMAP camera model names, by model id (the index). */
export const COLMAP_CAMERA_MODELS = Object.freeze([
  { id: 0, name: 'SIMPLE_PINHOLE', numParams: 3, focal: 1 },
  { id: 1, name: 'PINHOLE', numParams: 4, focal: 2 },
  { id: 2, name: 'SIMPLE_RADIAL', numParams: 4, focal: 1 },
  { id: 3, name: 'RADIAL', numParams: 5, focal: 1 },
  { id: 4, name: 'OPENCV', numParams: 8, focal: 2 },
  { id: 5, name: 'OPENCV_FISHEYE', numParams: 8, focal: 2 },
  { id: 6, name: 'FULL_OPENCV', numParams: 12, focal: 2 },
  { id: 7, name: 'FOV', numParams: 5, focal: 2 },
  { id: 8, name: 'SIMPLE_RADIAL_FISHEYE', numParams: 4, focal: 1 },
  { id: 9, name: 'RADIAL_FISHEYE', numParams: 5, focal: 1 },
  { id: 10, name: 'THIN_PRISM_FISHEYE', numParams: 12, focal: 2 },
  { id: 11, name: 'RAD_TAN_THIN_PRISM_FISHEYE', numParams: 16, focal: 2 },
  { id: 12, name: 'SIMPLE_DIVISION', numParams: 4, focal: 1 },
  { id: 13, name: 'DIVISION', numParams: 5, focal: 2 },
  { id: 14, name: 'SIMPLE_FISHEYE', numParams: 3, focal: 1 },
  { id: 15, name: 'FISHEYE', numParams: 4, focal: 2 },
  { id: 16, name: 'EUCM', numParams: 6, focal: 2 },
  // Spherical: params are the image size (w, h), there is no pinhole part.
  { id: 17, name: 'EQUIRECTANGULAR', numParams: 2, focal: 0 },
] as const);

/** A COLMAP camera model name (`PINHOLE`, `SIMPLE_RADIAL`, …). */
export type ColmapCameraModelName = (typeof COLMAP_CAMERA_MODELS)[number]['name'];

/** Model description of a COLMAP model id (`undefined` when unknown). */
export function colmapCameraModelById(id: number): (typeof COLMAP_CAMERA_MODELS)[number] | undefined {
  return Number.isInteger(id) && id >= 0 ? COLMAP_CAMERA_MODELS[id] : undefined;
}

/** Model description of a COLMAP model name (`undefined` when unknown). */
export function colmapCameraModelByName(name: string): (typeof COLMAP_CAMERA_MODELS)[number] | undefined {
  return COLMAP_CAMERA_MODELS.find((m) => m.name === name);
}

/** One camera (`cameras.txt` / `cameras.bin`). */
export interface ColmapCamera {
  /** `uint32` camera id. */
  id: number;
  model: ColmapCameraModelName;
  /** Image size in pixels. */
  width: number;
  height: number;
  /** The model's parameters in COLMAP's order (PINHOLE: fx, fy, cx, cy; SIMPLE_PINHOLE: f, cx, cy; …). */
  params: Float64Array;
}

/** One registered image (`images.txt` / `images.bin`). */
export interface ColmapImage {
  /** `uint32` image id. */
  id: number;
  /** World→camera rotation, quaternion **w first**: `[qw, qx, qy, qz]`. */
  qvec: Float64Array;
  /** World→camera translation `[tx, ty, tz]`. */
  tvec: Float64Array;
  cameraId: number;
  /** File name, relative to the images folder. */
  name: string;
  /** `[K, 2]` keypoint pixel coordinates (x, y). */
  xys: Float64Array;
  /** `[K]` the 3D point id of each keypoint, `-1` for none. */
  point3DIds: Float64Array;
}

/**
 * Every 3D point (`points3D.txt` / `points3D.bin`), column-wise so that millions of points stay
 * cheap. Point `p`'s track is `trackImageIds[o..e)`, `trackPoint2DIdx[o..e)` with
 * `o = trackOffsets[p]`, `e = trackOffsets[p + 1]`.
 */
export interface ColmapPoints {
  count: number;
  /** `[P]` `uint64` point ids (safe integers). */
  ids: Float64Array;
  /** `[P, 3]` world coordinates. */
  xyz: Float64Array;
  /** `[P, 3]` colour. */
  rgb: Uint8Array;
  /** `[P]` mean reprojection error in pixels (`-1`: unknown, COLMAP's default). */
  error: Float64Array;
  /** `[P + 1]` track offsets into the two arrays below. */
  trackOffsets: Uint32Array;
  /** Image id of each track element. */
  trackImageIds: Uint32Array;
  /** Keypoint index (into that image's `xys`) of each track element. */
  trackPoint2DIdx: Uint32Array;
}

/** A COLMAP sparse model: cameras, images and points, each in file order. */
export interface ColmapModel {
  cameras: ColmapCamera[];
  images: ColmapImage[];
  points: ColmapPoints;
}

/** The file names of a model in one format. */
export const COLMAP_FILES = Object.freeze({
  text: Object.freeze(['cameras.txt', 'images.txt', 'points3D.txt'] as const),
  binary: Object.freeze(['cameras.bin', 'images.bin', 'points3D.bin'] as const),
});

/** Text or binary COLMAP files. */
export type ColmapFormat = keyof typeof COLMAP_FILES;

/** An empty {@link ColmapPoints}. */
export function emptyColmapPoints(): ColmapPoints {
  return {
    count: 0,
    ids: new Float64Array(0),
    xyz: new Float64Array(0),
    rgb: new Uint8Array(0),
    error: new Float64Array(0),
    trackOffsets: new Uint32Array(1),
    trackImageIds: new Uint32Array(0),
    trackPoint2DIdx: new Uint32Array(0),
  };
}

const U32_MAX = 0xffffffff;

function checkId(where: string, what: string, v: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new Da3Error('BAD_VALUE', `${where}: ${what} must be an integer in [0, ${max}], got ${v}`);
  }
}

function checkFiniteArray(where: string, what: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Da3Error('NON_FINITE', `${where}: ${what}[${i}] is ${a[i]}`);
  }
}

/**
 * Checks a model before it is written (or after it is read): field shapes, id ranges, unique ids,
 * known camera models with the right parameter counts, finite numbers, and, unless
 * `consistency` is false, that images name existing cameras and that every keypoint → point
 * reference and every track element agree (each track element `(image, idx)` has that image's
 * keypoint `idx` pointing back at the point, and every keypoint with a point id is listed in that
 * point's track, exactly once).
 * @throws Da3Error `BAD_VALUE` (naming the first offending entry), `BAD_SHAPE`, `NON_FINITE`
 */
export function validateColmapModel(model: ColmapModel, where = 'validateColmapModel', consistency = true): void {
  const cameraIds = new Set<number>();
  for (const c of model.cameras) {
    checkId(where, 'camera id', c.id, U32_MAX);
    if (cameraIds.has(c.id)) throw new Da3Error('BAD_VALUE', `${where}: duplicate camera id ${c.id}`);
    cameraIds.add(c.id);
    const m = colmapCameraModelByName(c.model);
    if (!m) throw new Da3Error('BAD_VALUE', `${where}: camera ${c.id} has unknown model ${JSON.stringify(c.model)}`);
    if (c.params.length !== m.numParams) {
      throw new Da3Error('BAD_VALUE', `${where}: camera ${c.id} (${c.model}) needs ${m.numParams} params, got ${c.params.length}`);
    }
    checkId(where, `camera ${c.id} width`, c.width, Number.MAX_SAFE_INTEGER);
    checkId(where, `camera ${c.id} height`, c.height, Number.MAX_SAFE_INTEGER);
    checkFiniteArray(where, `camera ${c.id} params`, c.params);
  }
  const imageIndex = new Map<number, number>();
  model.images.forEach((im, k) => {
    checkId(where, 'image id', im.id, U32_MAX);
    if (imageIndex.has(im.id)) throw new Da3Error('BAD_VALUE', `${where}: duplicate image id ${im.id}`);
    imageIndex.set(im.id, k);
    checkId(where, `image ${im.id} camera id`, im.cameraId, U32_MAX);
    if (im.qvec.length !== 4 || im.tvec.length !== 3) {
      throw new Da3Error('BAD_SHAPE', `${where}: image ${im.id} needs qvec[4] and tvec[3], got ${im.qvec.length} and ${im.tvec.length}`);
    }
    checkFiniteArray(where, `image ${im.id} qvec`, im.qvec);
    checkFiniteArray(where, `image ${im.id} tvec`, im.tvec);
    if (im.xys.length !== 2 * im.point3DIds.length) {
      throw new Da3Error('BAD_SHAPE', `${where}: image ${im.id} has ${im.xys.length} keypoint coordinates for ${im.point3DIds.length} point ids`);
    }
    checkFiniteArray(where, `image ${im.id} xys`, im.xys);
    for (let j = 0; j < im.point3DIds.length; j++) {
      const pid = im.point3DIds[j];
      if (pid !== -1) checkId(where, `image ${im.id} keypoint ${j} point id`, pid, Number.MAX_SAFE_INTEGER);
    }
    if (typeof im.name !== 'string' || im.name.length === 0 || im.name.includes('\0')) {
      throw new Da3Error('BAD_VALUE', `${where}: image ${im.id} needs a non-empty name without NUL, got ${JSON.stringify(im.name)}`);
    }
  });
  const p = model.points;
  const P = p.count;
  if (!Number.isSafeInteger(P) || P < 0) throw new Da3Error('BAD_SHAPE', `${where}: points.count must be a non-negative integer, got ${P}`);
  for (const [k, arr, n] of [
    ['ids', p.ids, P],
    ['xyz', p.xyz, 3 * P],
    ['rgb', p.rgb, 3 * P],
    ['error', p.error, P],
    ['trackOffsets', p.trackOffsets, P + 1],
  ] as const) {
    if (arr.length !== n) throw new Da3Error('BAD_SHAPE', `${where}: points.${k} must hold ${n} values, got ${arr.length}`);
  }
  const T = p.trackOffsets[P];
  if (p.trackOffsets[0] !== 0 || p.trackImageIds.length !== T || p.trackPoint2DIdx.length !== T) {
    throw new Da3Error('BAD_SHAPE', `${where}: track offsets must start at 0 and end at the track arrays' length (${p.trackImageIds.length}, ${p.trackPoint2DIdx.length}), got ${p.trackOffsets[0]}..${T}`);
  }
  checkFiniteArray(where, 'points.xyz', p.xyz);
  checkFiniteArray(where, 'points.error', p.error);
  const pointIndex = new Map<number, number>();
  for (let i = 0; i < P; i++) {
    const id = p.ids[i];
    checkId(where, 'point id', id, Number.MAX_SAFE_INTEGER);
    if (pointIndex.has(id)) throw new Da3Error('BAD_VALUE', `${where}: duplicate point id ${id}`);
    pointIndex.set(id, i);
    if (p.trackOffsets[i + 1] < p.trackOffsets[i]) throw new Da3Error('BAD_SHAPE', `${where}: track offsets decrease at point ${i}`);
  }
  if (!consistency) return;

  for (const im of model.images) {
    if (!cameraIds.has(im.cameraId)) throw new Da3Error('BAD_VALUE', `${where}: image ${im.id} (${im.name}) uses camera ${im.cameraId}, which does not exist`);
  }
  // Track → keypoint: each element names an existing image and keypoint that points back.
  const seen = model.images.map((im) => new Uint8Array(im.point3DIds.length));
  for (let i = 0; i < P; i++) {
    const id = p.ids[i];
    for (let t = p.trackOffsets[i]; t < p.trackOffsets[i + 1]; t++) {
      const imageId = p.trackImageIds[t];
      const idx = p.trackPoint2DIdx[t];
      const k = imageIndex.get(imageId);
      if (k === undefined) throw new Da3Error('BAD_VALUE', `${where}: point ${id}'s track names image ${imageId}, which does not exist`);
      const im = model.images[k];
      if (idx >= im.point3DIds.length) {
        throw new Da3Error('BAD_VALUE', `${where}: point ${id}'s track names keypoint ${idx} of image ${imageId}, which has ${im.point3DIds.length}`);
      }
      if (im.point3DIds[idx] !== id) {
        throw new Da3Error('BAD_VALUE', `${where}: point ${id}'s track names keypoint ${idx} of image ${imageId}, which points at ${im.point3DIds[idx]}`);
      }
      if (seen[k][idx]) throw new Da3Error('BAD_VALUE', `${where}: keypoint ${idx} of image ${imageId} is listed twice in point ${id}'s track`);
      seen[k][idx] = 1;
    }
  }
  // Keypoint → point: each reference names an existing point whose track lists it.
  model.images.forEach((im, k) => {
    for (let j = 0; j < im.point3DIds.length; j++) {
      const pid = im.point3DIds[j];
      if (pid === -1 || seen[k][j]) continue;
      if (!pointIndex.has(pid)) throw new Da3Error('BAD_VALUE', `${where}: keypoint ${j} of image ${im.id} points at point ${pid}, which does not exist`);
      throw new Da3Error('BAD_VALUE', `${where}: keypoint ${j} of image ${im.id} points at point ${pid}, whose track does not list it`);
    }
  });
}
