/**
 * WGSL compute shaders of the WebGPU Gaussian rasterizer. They follow gsplat's CUDA kernels
 * (`ProjectionEWA3DGSFused.cu`, `SphericalHarmonics.cuh`, `IntersectTile.cu`,
 * `RasterizeToPixels3DGSSerialBatchFwd.cu`) operation for operation where the order of float
 * operations matters; the constants are gsplat's (`Common.h`).
 *
 * Pipeline (host: `rasterizer.ts`):
 * 1. `project` — per Gaussian: world→camera, culling (near/far, opacity < 1/255, outside the
 *    image), EWA 2D covariance + `eps2d`, conic, opacity-aware 3.33σ box, tile rectangle, SH
 *    colour; writes a depth key (float bits) and its tile count.
 * 2. stable LSD radix sort (4-bit digits: `histogram`, `scan*`, `scatter`) of the Gaussians by
 *    depth; ties keep the Gaussian index order.
 * 3. `gather` the tile counts in depth order, exclusive `scan` → where each Gaussian's
 *    intersections go; the total is read back to size the intersection buffers.
 * 4. `emit` — one (tile, Gaussian) pair per covered tile, in depth order.
 * 5. stable radix sort of the pairs by tile: within a tile they stay in (depth, index) order,
 *    which is the order gsplat's 64-bit (tile | depth) key sort gives.
 * 6. `ranges` — each tile's [start, end) in the sorted pairs.
 * 7. `rasterize` — one thread per pixel, one 16×16 workgroup per tile: front-to-back compositing
 *    with gsplat's alpha clamp (0.999 at the pinned commit), alpha cut (1/255) and transmittance cut-off (1e-4,
 *    exclusive: the Gaussian that would cross it is left out), stopping there.
 *
 * No kernel uses workgroup memory or barriers: on SwiftShader (the software adapter of CI and of
 * GPU-less machines) one barrier in a 256-thread workgroup costs as much as a few thousand
 * threads of plain work, so sorts and scans are chunked — each thread walks a run of consecutive
 * elements serially, which also makes the radix sort stable by construction — and compositing
 * reads the Gaussians straight from storage instead of staging them in workgroup batches.
 */

import { GSPLAT_CONSTANTS as C } from '../constants.js';

/** A WGSL f32 literal of a constant. */
const f32 = (v: number): string => (Number.isInteger(v) ? `${v}.0` : `${v}`);

/**
 * Pixels per tile side. gsplat's default is 16; the tile size does not change the image (tiles
 * only skip Gaussians whose alpha is below 1/255 there), and 8 halves the per-pixel walk.
 */
export const TILE_SIZE = 8;
/** Tiles one compositing workgroup covers (side by side): 8 × 8 = 64 threads. */
export const TILES_PER_GROUP = 8;
/** Elements one scan thread handles serially. */
export const BLOCK_ELEMENTS = 256;
/** Threads of a 1-D workgroup. */
export const WORKGROUP = 256;

/** The per-render uniform block (9 × vec4 = 144 bytes); layout written by the host. */
const FRAME = /* wgsl */ `
struct Frame {
  view0: vec4f,      // world→camera [R|t], row 0
  view1: vec4f,      // row 1
  view2: vec4f,      // row 2
  intr: vec4f,       // fx, fy, cx, cy
  campos: vec4f,     // camera centre (world) xyz, near plane
  clip: vec4f,       // far plane, eps2d, image width, image height (as floats)
  background: vec4f, // rgb
  sizes: vec4u,      // Gaussians, SH coefficients per colour (K), SH degree used, tiles across
  sizes2: vec4u,     // tiles down, image width, image height, unused
}
@group(0) @binding(0) var<uniform> frame: Frame;
`;

/** Small per-dispatch parameters (one 256-byte uniform slot each). */
const PARAMS = /* wgsl */ `
struct Params {
  n: u32,      // elements
  shift: u32,  // radix-sort digit shift (bits)
  blocks: u32, // 1024-element blocks (radix sort / scan)
  extra: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
`;

/** Linear index of a thread in a (possibly 2-D, for > 65535 workgroups) dispatch of 256-thread groups. */
const LINEAR = /* wgsl */ `
fn linearIndex(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * 256u;
}
fn linearGroup(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}
`;

/** gsplat's fast SH basis (Sloan 2013, `_eval_sh_bases_fast` / `sh_coeffs_to_color_fast`). */
const SH = /* wgsl */ `
fn shCoeff(base: u32, k: u32) -> vec3f {
  let K = frame.sizes.y;
  return vec3f(sh[base + k], sh[base + K + k], sh[base + 2u * K + k]);
}

fn shColor(i: u32, dir: vec3f) -> vec3f {
  let base = i * 3u * frame.sizes.y;
  let degree = frame.sizes.z;
  var c = 0.2820947917738781 * shCoeff(base, 0u);
  if (degree < 1u) { return c; }
  let len = sqrt(dir.x * dir.x + dir.y * dir.y + dir.z * dir.z);
  let inorm = select(1e12, 1.0 / len, len > 1e-12); // F.normalize's eps
  let x = dir.x * inorm;
  let y = dir.y * inorm;
  let z = dir.z * inorm;
  c += 0.48860251190292 * (-y * shCoeff(base, 1u) + z * shCoeff(base, 2u) - x * shCoeff(base, 3u));
  if (degree < 2u) { return c; }
  let z2 = z * z;
  let fTmp0B = -1.092548430592079 * z;
  let fC1 = x * x - y * y;
  let fS1 = 2.0 * x * y;
  let pSH6 = 0.9461746957575601 * z2 - 0.3153915652525201;
  let pSH7 = fTmp0B * x;
  let pSH5 = fTmp0B * y;
  let pSH8 = 0.5462742152960395 * fC1;
  let pSH4 = 0.5462742152960395 * fS1;
  c += pSH4 * shCoeff(base, 4u) + pSH5 * shCoeff(base, 5u) + pSH6 * shCoeff(base, 6u) + pSH7 * shCoeff(base, 7u) + pSH8 * shCoeff(base, 8u);
  if (degree < 3u) { return c; }
  let fTmp0C = -2.285228997322329 * z2 + 0.4570457994644658;
  let fTmp1B = 1.445305721320277 * z;
  let fC2 = x * fC1 - y * fS1;
  let fS2 = x * fS1 + y * fC1;
  let pSH12 = z * (1.865881662950577 * z2 - 1.119528997770346);
  let pSH13 = fTmp0C * x;
  let pSH11 = fTmp0C * y;
  let pSH14 = fTmp1B * fC1;
  let pSH10 = fTmp1B * fS1;
  let pSH15 = -0.5900435899266435 * fC2;
  let pSH9 = -0.5900435899266435 * fS2;
  c += pSH9 * shCoeff(base, 9u) + pSH10 * shCoeff(base, 10u) + pSH11 * shCoeff(base, 11u) + pSH12 * shCoeff(base, 12u) + pSH13 * shCoeff(base, 13u) + pSH14 * shCoeff(base, 14u) + pSH15 * shCoeff(base, 15u);
  return c;
}
`;

/**
 * Projection + SH colour, one thread per Gaussian. `gauss` holds 3 vec4 per Gaussian:
 * (mean xyz, opacity), (scale xyz, 0), (quaternion xyzw).
 */
export const PROJECT_WGSL = /* wgsl */ `
${FRAME}
@group(0) @binding(1) var<storage, read> gauss: array<vec4f>;
@group(0) @binding(2) var<storage, read> sh: array<f32>;
@group(0) @binding(3) var<storage, read_write> splats: array<vec4f>; // 3 per Gaussian
@group(0) @binding(4) var<storage, read_write> rects: array<vec4u>;  // tile min xy, max xy (exclusive)
@group(0) @binding(5) var<storage, read_write> counts: array<u32>;   // tiles covered
@group(0) @binding(6) var<storage, read_write> keys: array<u32>;     // depth bits (culled: 0xffffffff)
@group(0) @binding(7) var<storage, read_write> vals: array<u32>;     // Gaussian index
${LINEAR}
${SH}
const ALPHA_THRESHOLD: f32 = 1.0 / 255.0;
const GAUSSIAN_EXTEND: f32 = ${f32(C.radiusSigmas)};
const FOV_MARGIN: f32 = ${f32(C.jacobianFovMargin)};
const SH_OFFSET: f32 = ${f32(C.shOffset)};

// finite (not NaN, not ±Inf): the exponent bits are not all ones
fn finite4(v: vec4f) -> bool {
  return all((bitcast<vec4u>(v) & vec4u(0x7f800000u)) != vec4u(0x7f800000u));
}
const TILE: f32 = ${TILE_SIZE}.0;

fn cull(i: u32) {
  counts[i] = 0u;
  keys[i] = 0xffffffffu;
  rects[i] = vec4u(0u);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linearIndex(gid, nwg);
  if (i >= frame.sizes.x) { return; }
  vals[i] = i;
  let g0 = gauss[3u * i];
  let g1 = gauss[3u * i + 1u];
  let q = gauss[3u * i + 2u];

  // posW2C: R * p + t (glm column-major R built from the row-major viewmat)
  let R = mat3x3f(
    vec3f(frame.view0.x, frame.view1.x, frame.view2.x),
    vec3f(frame.view0.y, frame.view1.y, frame.view2.y),
    vec3f(frame.view0.z, frame.view1.z, frame.view2.z));
  let t = vec3f(frame.view0.w, frame.view1.w, frame.view2.w);
  let mc = R * g0.xyz + t;
  let near = frame.campos.w;
  let far = frame.clip.x;
  if (mc.z < near || mc.z > far) { cull(i); return; }

  // quat_scale_to_covar_preci (gsplat quaternions are wxyz; ours are xyzw)
  let inv = inverseSqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w);
  let w = q.w * inv;
  let x = q.x * inv;
  let y = q.y * inv;
  let z = q.z * inv;
  let x2 = x * x; let y2 = y * y; let z2 = z * z;
  let xy = x * y; let xz = x * z; let yz = y * z;
  let wx = w * x; let wy = w * y; let wz = w * z;
  let Rq = mat3x3f(
    vec3f(1.0 - 2.0 * (y2 + z2), 2.0 * (xy + wz), 2.0 * (xz - wy)),
    vec3f(2.0 * (xy - wz), 1.0 - 2.0 * (x2 + z2), 2.0 * (yz + wx)),
    vec3f(2.0 * (xz + wy), 2.0 * (yz - wx), 1.0 - 2.0 * (x2 + y2)));
  let S = mat3x3f(vec3f(g1.x, 0.0, 0.0), vec3f(0.0, g1.y, 0.0), vec3f(0.0, 0.0, g1.z));
  let M = Rq * S;
  let covar = M * transpose(M);
  let covarC = R * covar * transpose(R);

  // persp_proj
  let fx = frame.intr.x; let fy = frame.intr.y; let cx = frame.intr.z; let cy = frame.intr.w;
  let width = frame.clip.z; let height = frame.clip.w;
  let tanFovX = 0.5 * width / fx;
  let tanFovY = 0.5 * height / fy;
  let limXPos = (width - cx) / fx + FOV_MARGIN * tanFovX;
  let limXNeg = cx / fx + FOV_MARGIN * tanFovX;
  let limYPos = (height - cy) / fy + FOV_MARGIN * tanFovY;
  let limYNeg = cy / fy + FOV_MARGIN * tanFovY;
  let rz = 1.0 / mc.z;
  let rz2 = rz * rz;
  let tx = mc.z * min(limXPos, max(-limXNeg, mc.x * rz));
  let ty = mc.z * min(limYPos, max(-limYNeg, mc.y * rz));
  let J = mat3x2f(vec2f(fx * rz, 0.0), vec2f(0.0, fy * rz), vec2f(-fx * tx * rz2, -fy * ty * rz2));
  var cov2d = J * covarC * transpose(J);
  let mean2d = vec2f(fx * mc.x * rz + cx, fy * mc.y * rz + cy);

  // add_blur
  cov2d[0][0] += frame.clip.y;
  cov2d[1][1] += frame.clip.y;
  let det = cov2d[0][0] * cov2d[1][1] - cov2d[0][1] * cov2d[1][0];
  if (det <= 0.0) { cull(i); return; }
  // glm::inverse(mat2)
  let ood = 1.0 / (cov2d[0][0] * cov2d[1][1] - cov2d[1][0] * cov2d[0][1]);
  let conic = vec3f(cov2d[1][1] * ood, -cov2d[0][1] * ood, cov2d[0][0] * ood);

  let opacity = g0.w;
  if (opacity < ALPHA_THRESHOLD) { cull(i); return; }
  // opacity-aware box (arXiv 2402.00525, B.2), as gsplat's kernel
  let extend = min(GAUSSIAN_EXTEND, sqrt(2.0 * log(opacity / ALPHA_THRESHOLD)));
  let radiusX = ceil(extend * sqrt(cov2d[0][0]));
  let radiusY = ceil(extend * sqrt(cov2d[1][1]));
  if (radiusX <= 0.0 && radiusY <= 0.0) { cull(i); return; }
  if (!finite4(vec4f(mean2d, conic.xy)) || !finite4(vec4f(conic.z, radiusX, radiusY, mc.z))) { cull(i); return; }
  if (mean2d.x + radiusX <= 0.0 || mean2d.x - radiusX >= width || mean2d.y + radiusY <= 0.0 || mean2d.y - radiusY >= height) { cull(i); return; }

  // isect_tiles: tiles touched by the box
  let tilesX = f32(frame.sizes.w);
  let tilesY = f32(frame.sizes2.x);
  let tmin = vec2f(clamp(floor(mean2d.x / TILE - radiusX / TILE), 0.0, tilesX), clamp(floor(mean2d.y / TILE - radiusY / TILE), 0.0, tilesY));
  let tmax = vec2f(clamp(ceil(mean2d.x / TILE + radiusX / TILE), 0.0, tilesX), clamp(ceil(mean2d.y / TILE + radiusY / TILE), 0.0, tilesY));
  let rect = vec4u(u32(tmin.x), u32(tmin.y), u32(tmax.x), u32(tmax.y));
  var n = (rect.z - rect.x) * (rect.w - rect.y);
  if (radiusX <= 0.0 || radiusY <= 0.0) { n = 0u; }
  counts[i] = n;
  rects[i] = rect;
  keys[i] = select(0xffffffffu, bitcast<u32>(mc.z), n > 0u);

  // colours: SH at the view direction, + 0.5, clamped below at 0 (rendering.py)
  let color = max(shColor(i, g0.xyz - frame.campos.xyz) + vec3f(SH_OFFSET), vec3f(0.0));
  if (!finite4(vec4f(color, 0.0))) { cull(i); return; }
  splats[3u * i] = vec4f(mean2d, opacity, mc.z);
  splats[3u * i + 1u] = vec4f(conic, 0.0);
  splats[3u * i + 2u] = vec4f(color, mc.z);
}
`;

/**
 * Digit histogram of each chunk of `chunk` consecutive keys (one thread per chunk):
 * hist[digit · chunks + chunk]. No workgroup memory or barriers (see the module doc).
 */
export const HISTOGRAM_WGSL = /* wgsl */ `
${PARAMS}
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> hist: array<u32>;
${LINEAR}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = linearIndex(gid, nwg);
  let chunks = params.blocks;
  if (c >= chunks) { return; }
  var bins: array<u32, 16>;
  let end = min(params.n, (c + 1u) * params.extra);
  for (var i = c * params.extra; i < end; i++) {
    let d = (keys[i] >> params.shift) & 15u;
    bins[d] += 1u;
  }
  for (var d = 0u; d < 16u; d++) { hist[d * chunks + c] = bins[d]; }
}
`;

/**
 * Stable scatter of one radix-sort pass: each thread walks its chunk in order from its digits'
 * scanned offsets, so equal digits keep their order.
 */
export const SCATTER_WGSL = /* wgsl */ `
${PARAMS}
@group(0) @binding(1) var<storage, read> keysIn: array<u32>;
@group(0) @binding(2) var<storage, read> valsIn: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> keysOut: array<u32>;
@group(0) @binding(5) var<storage, read_write> valsOut: array<u32>;
${LINEAR}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = linearIndex(gid, nwg);
  let chunks = params.blocks;
  if (c >= chunks) { return; }
  var next: array<u32, 16>;
  for (var d = 0u; d < 16u; d++) { next[d] = offsets[d * chunks + c]; }
  let end = min(params.n, (c + 1u) * params.extra);
  for (var i = c * params.extra; i < end; i++) {
    let k = keysIn[i];
    let d = (k >> params.shift) & 15u;
    let dst = next[d];
    next[d] = dst + 1u;
    keysOut[dst] = k;
    valsOut[dst] = valsIn[i];
  }
}
`;

/** Exclusive scan of ${'`'}${BLOCK_ELEMENTS}${'`'}-element blocks in place, one thread per block; block totals → sums. */
export const SCAN_BLOCKS_WGSL = /* wgsl */ `
${PARAMS}
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums: array<u32>;
${LINEAR}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = linearIndex(gid, nwg);
  if (block >= params.blocks) { return; }
  let end = min(params.n, (block + 1u) * ${BLOCK_ELEMENTS}u);
  var total = 0u;
  for (var i = block * ${BLOCK_ELEMENTS}u; i < end; i++) {
    let x = data[i];
    data[i] = total;
    total += x;
  }
  sums[block] = total;
}
`;

/** Adds each block's scanned offset to its elements (second half of a multi-block scan). */
export const SCAN_ADD_WGSL = /* wgsl */ `
${PARAMS}
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read> sums: array<u32>;
${LINEAR}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linearIndex(gid, nwg);
  if (i >= params.n) { return; }
  data[i] += sums[i / ${BLOCK_ELEMENTS}u];
}
`;

/** Tile counts in depth order: out[i] = counts[order[i]]. */
export const GATHER_WGSL = /* wgsl */ `
${PARAMS}
@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
${LINEAR}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linearIndex(gid, nwg);
  if (i >= params.n) { return; }
  out[i] = counts[order[i]];
}
`;

/** One (tile, Gaussian) pair per tile a Gaussian covers, Gaussians in depth order. */
export const EMIT_WGSL = /* wgsl */ `
${PARAMS}
@group(0) @binding(1) var<storage, read> order: array<u32>;
@group(0) @binding(2) var<storage, read> counts: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read> rects: array<vec4u>;
@group(0) @binding(5) var<storage, read_write> tileKeys: array<u32>;
@group(0) @binding(6) var<storage, read_write> ids: array<u32>;
${LINEAR}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linearIndex(gid, nwg);
  if (i >= params.n) { return; }
  let g = order[i];
  if (counts[g] == 0u) { return; }
  let r = rects[g];
  var k = offsets[i];
  let tilesX = params.extra;
  for (var y = r.y; y < r.w; y++) {
    for (var x = r.x; x < r.z; x++) {
      tileKeys[k] = y * tilesX + x;
      ids[k] = g;
      k++;
    }
  }
}
`;

/** Each tile's [start, end) in the tile-sorted pairs (tiles with none stay [0, 0)). */
export const RANGES_WGSL = /* wgsl */ `
${PARAMS}
@group(0) @binding(1) var<storage, read> tileKeys: array<u32>;
@group(0) @binding(2) var<storage, read_write> ranges: array<vec2u>;
${LINEAR}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linearIndex(gid, nwg);
  if (i >= params.n) { return; }
  let t = tileKeys[i];
  if (i == 0u || tileKeys[i - 1u] != t) { ranges[t].x = i; }
  if (i == params.n - 1u || tileKeys[i + 1u] != t) { ranges[t].y = i + 1u; }
}
`;

/**
 * Front-to-back compositing, one thread per pixel, 16×16 workgroups = one tile each; every pixel
 * walks its tile's depth-sorted Gaussians until its transmittance cut-off. Output layout
 * (floats): rgb [H·W·3] | alpha [H·W] | expected depth [H·W].
 */
export const RASTERIZE_WGSL = /* wgsl */ `
${FRAME}
@group(0) @binding(1) var<storage, read> splats: array<vec4f>;
@group(0) @binding(2) var<storage, read> ranges: array<vec2u>;
@group(0) @binding(3) var<storage, read> ids: array<u32>;
@group(0) @binding(4) var<storage, read_write> image: array<f32>;

const ALPHA_THRESHOLD: f32 = 1.0 / 255.0;
const MAX_ALPHA: f32 = ${f32(C.maxAlpha)};
const TRANSMITTANCE_THRESHOLD: f32 = ${f32(C.transmittanceMin)};
const DEPTH_ALPHA_FLOOR: f32 = ${f32(C.depthAlphaFloor)};

// Each thread composites one column of a tile (${TILE_SIZE} pixels) as the lanes of two vec4 sets
// (rows 0–3 and 4–7), so one loop iteration (one Gaussian fetched) serves 8 pixels. Per lane the
// operations are exactly the scalar ones of gsplat's kernel; select() stands in for its
// per-pixel branches. A workgroup covers TILES_PER_GROUP tiles side by side.
const TILES_PER_GROUP: u32 = ${TILES_PER_GROUP}u;

struct Px {
  T: vec4f,
  r: vec4f,
  g: vec4f,
  b: vec4f,
  d: vec4f,
  live: vec4<bool>,
}

fn blend(s: ptr<function, Px>, xo: vec4f, c: vec4f, dx: f32, fy: vec4f, g: u32) {
  let dy = xo.y - fy;
  let sigma = 0.5 * (c.x * dx * dx + c.z * dy * dy) + c.y * dx * dy;
  let alpha = min(vec4f(MAX_ALPHA), xo.z * exp(-sigma));
  let valid = (*s).live & (sigma >= vec4f(0.0)) & (alpha >= vec4f(ALPHA_THRESHOLD));
  if (!any(valid)) { return; }
  let T = (*s).T;
  let nextT = T * (1.0 - alpha);
  let stop = valid & (nextT <= vec4f(TRANSMITTANCE_THRESHOLD));
  (*s).live = (*s).live & !stop;
  let on = valid & !stop;
  let w = select(vec4f(0.0), alpha * T, on);
  let color = splats[g + 2u];
  (*s).r += color.x * w;
  (*s).g += color.y * w;
  (*s).b += color.z * w;
  (*s).d += color.w * w;
  (*s).T = select(T, nextT, on);
}

fn store(s: Px, px: u32, py: vec4u, width: u32, height: u32) {
  let n = width * height;
  let bg = frame.background;
  for (var p = 0u; p < 4u; p++) {
    if (py[p] >= height) { return; }
    let i = py[p] * width + px;
    image[3u * i] = s.r[p] + s.T[p] * bg.x;
    image[3u * i + 1u] = s.g[p] + s.T[p] * bg.y;
    image[3u * i + 2u] = s.b[p] + s.T[p] * bg.z;
    let a = 1.0 - s.T[p];
    image[3u * n + i] = a;
    image[4u * n + i] = s.d[p] / max(a, DEPTH_ALPHA_FLOOR);
  }
}

@compute @workgroup_size(${TILE_SIZE}, TILES_PER_GROUP)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let width = frame.sizes2.y;
  let height = frame.sizes2.z;
  let tileX = wg.x * TILES_PER_GROUP + lid.y;
  let tileY = wg.y;
  let px = tileX * ${TILE_SIZE}u + lid.x;
  let pyA = tileY * ${TILE_SIZE}u + vec4u(0u, 1u, 2u, 3u);
  let pyB = pyA + 4u;
  if (px >= width || pyA.x >= height) { return; }
  let fx = f32(px) + 0.5;
  let fyA = vec4f(pyA) + 0.5;
  let fyB = vec4f(pyB) + 0.5;
  var A = Px(vec4f(1.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), pyA < vec4u(height));
  var B = Px(vec4f(1.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), pyB < vec4u(height));
  let range = ranges[tileX + tileY * frame.sizes.w];
  for (var k = range.x; k < range.y && (any(A.live) || any(B.live)); k++) {
    let g = 3u * ids[k];
    let xo = splats[g];
    let c = splats[g + 1u];
    let dx = xo.x - fx;
    blend(&A, xo, c, dx, fyA, g);
    blend(&B, xo, c, dx, fyB, g);
  }
  store(A, px, pyA, width, height);
  store(B, px, pyB, width, height);
}
`;
