#!/usr/bin/env node
// da3js core self-check (what `npm run demo` runs until the node package lands): a synthetic
// camera → its DA3-style ray map → the camera recovered by the reference's ray-pose solver
// (weighted DLT + RANSAC + QL), plus a look at the official variants. Exits non-zero on failure.
import {
  VARIANTS,
  VARIANT_IDS,
  cameraFromRayMap,
  makeIntrinsics,
  planPreprocess,
  quatXyzwToMat3,
  rayMapFromCamera,
} from '@da3js/core';

const H = 336;
const W = 504;
const mapH = (H / 14) * 8;
const mapW = (W / 14) * 8;

// A camera 2.5 units from the origin, rotated 20° about an oblique axis, fx ≠ fy.
const angle = (20 * Math.PI) / 180;
const axis = [0.3, -0.8, 0.52];
const n = Math.hypot(...axis);
const s = Math.sin(angle / 2) / n;
const q = [axis[0] * s, axis[1] * s, axis[2] * s, Math.cos(angle / 2)];
const R = quatXyzwToMat3(new Float64Array(9), q);
const t = [0.4, -0.2, 2.5];
const w2c = Float64Array.from([R[0], R[1], R[2], t[0], R[3], R[4], R[5], t[1], R[6], R[7], R[8], t[2]]);
const K = makeIntrinsics(420, 400, W / 2, H / 2);

const started = performance.now();
const rays = rayMapFromCamera(w2c, K, [H, W], [mapH, mapW]);
const pose = cameraFromRayMap(rays, null, { views: 1, height: mapH, width: mapW }, [H, W], { seed: 0 });
const ms = performance.now() - started;

// Rotation error: angle of R_est · R_trueᵀ.
const Re = pose.w2c;
let trace = 0;
for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) trace += Re[i * 4 + k] * R[i * 3 + k];
const rotErr = Math.acos(Math.min(1, Math.max(-1, (trace - 1) / 2)));
const tErr = Math.hypot(Re[3] - t[0], Re[7] - t[1], Re[11] - t[2]);
const fxErr = Math.abs(pose.intrinsics[0] - K[0]) / K[0];
const fyErr = Math.abs(pose.intrinsics[4] - K[4]) / K[4];

console.log('da3js core self-check');
console.log(`  ray map ${mapH}×${mapW} for a ${W}×${H} image → pose in ${ms.toFixed(1)} ms`);
console.log(`  rotation error ${rotErr.toExponential(2)} rad, translation error ${tErr.toExponential(2)}`);
console.log(`  fx ${pose.intrinsics[0].toFixed(4)} (true ${K[0]}), fy ${pose.intrinsics[4].toFixed(4)} (true ${K[4]})`);
const plan = planPreprocess(1920, 1080, { processRes: 504, method: 'upper_bound_resize' });
console.log(`  preprocess plan 1920×1080 → ${plan.width}×${plan.height} (upper_bound_resize, 504)`);
console.log(`  official variants: ${VARIANT_IDS.map((id) => `${id} (${VARIANTS[id].license})`).join(', ')}`);

const ok = rotErr < 1e-4 && fxErr < 1e-4 && fyErr < 1e-4 && tErr < 1e-6;
console.log(ok ? 'OK' : 'FAILED');
process.exit(ok ? 0 : 1);
