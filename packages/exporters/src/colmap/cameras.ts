/**
 * Cameras of a COLMAP model as DA3 takes them for pose-conditioned inference (the reference CLI's
 * `colmap` command, `services/input_handlers.py` `ColmapHandler.process`): per image a world→camera
 * `[R | t]` (OpenCV axes, COLMAP's own) and a pinhole K in the original image's pixels.
 */
import { Da3Error, quatXyzwToMat3 } from '@da3js/core';
import { type ColmapCamera, type ColmapImage, type ColmapModel, colmapCameraModelByName } from './model.js';

/** How non-pinhole camera models become a pinhole K. */
export type ColmapPinholeApproximation = 'pinhole-part' | 'reference';

/** Options of {@link colmapToCameras}. */
export interface ColmapToCamerasOptions {
  /**
   * For models other than PINHOLE and SIMPLE_PINHOLE:
   * - `pinhole-part` (default): their focal length(s) and principal point (SIMPLE_RADIAL, RADIAL,
   *   SIMPLE_RADIAL_FISHEYE, RADIAL_FISHEYE, SIMPLE_DIVISION, SIMPLE_FISHEYE: `f, cx, cy`; OPENCV,
   *   FULL_OPENCV, OPENCV_FISHEYE, FOV, THIN_PRISM_FISHEYE, RAD_TAN_THIN_PRISM_FISHEYE, DIVISION,
   *   FISHEYE, EUCM: `fx, fy, cx, cy`); the distortion is dropped (the images are not undistorted);
   * - `reference`: the reference CLI's "basic approximation", `fx = fy = params[0]`,
   *   `cx = width / 2`, `cy = height / 2`.
   * EQUIRECTANGULAR has no pinhole part and fails in both.
   */
  approximation?: ColmapPinholeApproximation;
}

/** Per-image cameras, in the requested order. */
export interface ColmapCameras {
  /** Image names, in order. */
  names: string[];
  /** COLMAP image ids, in order. */
  imageIds: number[];
  /** `[N, 3, 4]` world→camera `[R | t]`, OpenCV axes, row-major. */
  w2c: Float64Array;
  /** `[N, 3, 3]` pinhole K in pixels of the image size below, row-major. */
  intrinsics: Float64Array;
  /** `[width, height]` of each image's camera, pixels. */
  sizes: [number, number][];
  /** The camera model of each image and whether its K is an approximation (not PINHOLE / SIMPLE_PINHOLE). */
  models: { model: ColmapCamera['model']; approximated: boolean }[];
}

function pinhole(c: ColmapCamera, approximation: ColmapPinholeApproximation): [number, number, number, number, boolean] {
  const p = c.params;
  switch (c.model) {
    case 'PINHOLE':
      return [p[0], p[1], p[2], p[3], false];
    case 'SIMPLE_PINHOLE':
      return [p[0], p[0], p[1], p[2], false];
    case 'EQUIRECTANGULAR':
      throw new Da3Error('BAD_VALUE', `colmapToCameras: camera ${c.id} is EQUIRECTANGULAR, which has no pinhole approximation`);
    default:
      if (approximation === 'reference') return [p[0], p[0], c.width / 2, c.height / 2, true];
      // Single-focal models store f, cx, cy first; the others fx, fy, cx, cy.
      if (colmapCameraModelByName(c.model)?.focal === 1) return [p[0], p[0], p[1], p[2], true];
      return [p[0], p[1], p[2], p[3], true];
  }
}

/**
 * The cameras of `imageOrder` (image names; default: every image in file order — the reference
 * CLI's order), as DA3's extrinsics and intrinsics. R is the rotation of the (normalised)
 * quaternion `[qw, qx, qy, qz]`; t is copied.
 *
 * Usage (node, the future `da3 colmap`):
 * ```ts
 * const model = readColmap((n) => tryRead(join(dir, 'sparse', n)));
 * const { names, w2c, intrinsics, sizes } = colmapToCameras(model);
 * ```
 * @throws Da3Error `BAD_VALUE` (an unknown or repeated name, an image's camera missing,
 *   EQUIRECTANGULAR, a zero quaternion), `EMPTY_INPUT` (no images).
 */
export function colmapToCameras(model: ColmapModel, imageOrder?: readonly string[], options: ColmapToCamerasOptions = {}): ColmapCameras {
  const approximation = options.approximation ?? 'pinhole-part';
  if (approximation !== 'pinhole-part' && approximation !== 'reference') {
    throw new Da3Error('BAD_VALUE', `colmapToCameras: approximation must be 'pinhole-part' or 'reference', got ${JSON.stringify(approximation)}`);
  }
  const cameras = new Map(model.cameras.map((c) => [c.id, c]));
  let images: ColmapImage[];
  if (imageOrder === undefined) images = model.images;
  else {
    const byName = new Map<string, ColmapImage>();
    for (const im of model.images) {
      if (byName.has(im.name)) throw new Da3Error('BAD_VALUE', `colmapToCameras: two images are named ${JSON.stringify(im.name)}`);
      byName.set(im.name, im);
    }
    const used = new Set<string>();
    images = imageOrder.map((name) => {
      const im = byName.get(name);
      if (!im) throw new Da3Error('BAD_VALUE', `colmapToCameras: no image named ${JSON.stringify(name)} in the model`);
      if (used.has(name)) throw new Da3Error('BAD_VALUE', `colmapToCameras: image ${JSON.stringify(name)} is requested twice`);
      used.add(name);
      return im;
    });
  }
  const N = images.length;
  if (N === 0) throw new Da3Error('EMPTY_INPUT', 'colmapToCameras: no images');
  const w2c = new Float64Array(12 * N);
  const intrinsics = new Float64Array(9 * N);
  const sizes: [number, number][] = [];
  const models: ColmapCameras['models'] = [];
  const R = new Float64Array(9);
  images.forEach((im, b) => {
    const [w, x, y, z] = im.qvec;
    if (w * w + x * x + y * y + z * z === 0) throw new Da3Error('BAD_VALUE', `colmapToCameras: image ${im.id} (${im.name}) has a zero quaternion`);
    quatXyzwToMat3(R, [x, y, z, w]);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) w2c[12 * b + 4 * r + c] = R[3 * r + c];
      w2c[12 * b + 4 * r + 3] = im.tvec[r];
    }
    const cam = cameras.get(im.cameraId);
    if (!cam) throw new Da3Error('BAD_VALUE', `colmapToCameras: image ${im.id} (${im.name}) uses camera ${im.cameraId}, which does not exist`);
    const [fx, fy, cx, cy, approximated] = pinhole(cam, approximation);
    intrinsics.set([fx, 0, cx, 0, fy, cy, 0, 0, 1], 9 * b);
    sizes.push([cam.width, cam.height]);
    models.push({ model: cam.model, approximated });
  });
  return { names: images.map((im) => im.name), imageIds: images.map((im) => im.id), w2c, intrinsics, sizes, models };
}
