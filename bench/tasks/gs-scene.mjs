// A synthetic DA3-size Gaussian scene: one 504×336 view → 169,344 per-pixel Gaussians (what
// DA3's GS head + adapter give for one view at that size), and render cameras around it.
//
// Each pixel (u, v) of the source view gets a Gaussian on a procedural depth map (a wall at
// z ≈ 4 with relief, a sphere at z ≈ 2, a floor) at mean = depth·K⁻¹[u+½, v+½, 1]; scales of
// 0.4–1.6 source pixels (world = σ_px·z/f) in the image plane and 0.3× that along the view ray,
// rotated about the ray; opacities 0.3–0.98; SH degree 2 (DC = a procedural texture, higher bands
// ±0.05). Deterministic (LCG seed). `splatScale` multiplies the sizes, `minOpacity` raises the
// opacity floor (a heavier scene: more overlap, more pixels reaching the transmittance cut-off).

/** Source camera: 504×336, f = 400 px, principal point at the centre. */
export const SOURCE = { width: 504, height: 336, fx: 400, fy: 400, cx: 252, cy: 168 };

export function makeScene({ width = SOURCE.width, height = SOURCE.height, seed = 12345, splatScale = 1, minOpacity = 0.3 } = {}) {
  const { fx, fy } = SOURCE;
  const cx = width / 2;
  const cy = height / 2;
  const n = width * height;
  const K = 9;
  const means = new Float32Array(3 * n);
  const scales = new Float32Array(3 * n);
  const rotations = new Float32Array(4 * n);
  const harmonics = new Float32Array(3 * K * n);
  const opacities = new Float32Array(n);
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const i = v * width + u;
      const x = (u + 0.5 - cx) / fx;
      const y = (v + 0.5 - cy) / fy;
      // wall with relief
      let z = 4 + 0.25 * Math.sin(6 * x) * Math.cos(5 * y);
      // floor (y down: lower image half)
      if (y > 0.12) z = Math.min(z, 1.6 / (y - 0.02));
      // sphere centred (−0.3, 0.05, 2.2), radius 0.55
      const dx = x, dy = y;
      const ox = -0.3, oy = 0.05, oz = 2.2, r = 0.55;
      const a = dx * dx + dy * dy + 1;
      const b = -2 * (dx * ox + dy * oy + oz);
      const c = ox * ox + oy * oy + oz * oz - r * r;
      const disc = b * b - 4 * a * c;
      if (disc > 0) z = Math.min(z, (-b - Math.sqrt(disc)) / (2 * a));
      z *= 1 + 0.004 * (rand() - 0.5);
      means[3 * i] = x * z;
      means[3 * i + 1] = y * z;
      means[3 * i + 2] = z;
      const px = (splatScale * (0.4 + 1.2 * rand()) * z) / fx;
      const py = (splatScale * (0.4 + 1.2 * rand()) * z) / fy;
      scales[3 * i] = px;
      scales[3 * i + 1] = py;
      scales[3 * i + 2] = 0.3 * Math.min(px, py);
      const th = Math.PI * rand();
      rotations[4 * i + 2] = Math.sin(th / 2); // about the camera z axis (xyzw)
      rotations[4 * i + 3] = Math.cos(th / 2);
      opacities[i] = minOpacity + (0.98 - minOpacity) * rand();
      const tex = [0.5 + 0.4 * Math.sin(17 * x + 3 * z), 0.5 + 0.4 * Math.cos(11 * y - 2 * z), 0.5 + 0.4 * Math.sin(7 * (x + y))];
      for (let ch = 0; ch < 3; ch++) {
        const h = (3 * i + ch) * K;
        harmonics[h] = (tex[ch] - 0.5) / 0.2820947917738781;
        for (let k = 1; k < K; k++) harmonics[h + k] = 0.1 * (rand() - 0.5);
      }
    }
  }
  return { count: n, means, scales, rotations, harmonics, shCoefficients: K, opacities };
}

/** Render camera `t` ∈ [0, 1) along a small wander around the source view (gs_video-like). */
export function wanderCamera(t, { width = SOURCE.width, height = SOURCE.height } = {}) {
  const ang = 2 * Math.PI * t;
  const yaw = 0.05 * Math.sin(ang);
  const pitch = 0.03 * Math.cos(ang);
  const cyw = Math.cos(yaw), syw = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  // R = Rx(pitch)·Ry(yaw) (world→camera), camera centre c
  const R = [cyw, 0, syw, sp * syw, cp, -sp * cyw, -cp * syw, sp, cp * cyw];
  const c = [0.25 * Math.sin(ang), 0.1 * Math.cos(ang), 0.15 * Math.sin(2 * ang)];
  const tvec = [0, 1, 2].map((r) => -(R[3 * r] * c[0] + R[3 * r + 1] * c[1] + R[3 * r + 2] * c[2]));
  return {
    extrinsics: [R[0], R[1], R[2], tvec[0], R[3], R[4], R[5], tvec[1], R[6], R[7], R[8], tvec[2]],
    intrinsics: [SOURCE.fx, 0, width / 2, 0, SOURCE.fy, height / 2, 0, 0, 1],
    width,
    height,
  };
}
