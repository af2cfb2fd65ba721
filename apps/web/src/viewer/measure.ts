/**
 * The measure tool's maths, free of three.js and the DOM: distances between world points, the
 * distance of a point from a ray, and which of many points a click's ray picks.
 */

/** A 3-vector as plain numbers. */
export type Vec3 = readonly [number, number, number];

/** Euclidean distance between two points (float64). */
export function distance3(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/**
 * Distance of point `p` from the ray `origin + t·dir`, `t ≥ 0` (`dir` need not be unit length),
 * and the ray parameter `t` (in units of |dir|) of the closest approach. Points behind the origin
 * measure to the origin (t = 0).
 */
export function pointRayDistance(p: Vec3, origin: Vec3, dir: Vec3): { distance: number; t: number } {
  const dd = dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2];
  if (!(dd > 0)) throw new RangeError('pointRayDistance: the ray direction is zero');
  const vx = p[0] - origin[0];
  const vy = p[1] - origin[1];
  const vz = p[2] - origin[2];
  const t = Math.max(0, (vx * dir[0] + vy * dir[1] + vz * dir[2]) / dd);
  return { distance: Math.hypot(vx - t * dir[0], vy - t * dir[1], vz - t * dir[2]), t };
}

/**
 * Index of the point (xyz triples in `positions`) closest to the ray among those within
 * `threshold` of it; ties (within 1e-12) go to the point nearer the ray origin. `-1` when none is
 * close enough.
 */
export function nearestPointToRay(positions: ArrayLike<number>, origin: Vec3, dir: Vec3, threshold: number): number {
  let best = -1;
  let bestD = Number.POSITIVE_INFINITY;
  let bestT = Number.POSITIVE_INFINITY;
  const n = Math.floor(positions.length / 3);
  for (let i = 0; i < n; i++) {
    const { distance, t } = pointRayDistance([positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]], origin, dir);
    if (distance > threshold) continue;
    if (distance < bestD - 1e-12 || (Math.abs(distance - bestD) <= 1e-12 && t < bestT)) {
      best = i;
      bestD = distance;
      bestT = t;
    }
  }
  return best;
}

/**
 * Among raycaster hits (three.js `Intersection`s of a `Points` object: `index`, `distanceToRay`,
 * `distance` along the ray), the one nearest the ray, ties to the nearer one; `undefined` for none.
 */
export function closestHit<T extends { index?: number; distanceToRay?: number; distance: number }>(hits: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const h of hits) {
    if (h.index === undefined) continue;
    const d = h.distanceToRay ?? 0;
    const bd = best?.distanceToRay ?? 0;
    if (!best || d < bd - 1e-12 || (Math.abs(d - bd) <= 1e-12 && h.distance < best.distance)) best = h;
  }
  return best;
}

/** A distance for people: metres (`m`, or `cm` below 1 m) for metric predictions, else model units. */
export function formatDistance(d: number, metric: boolean): string {
  if (!Number.isFinite(d)) return '—';
  if (!metric) return `${d.toPrecision(4)} units`;
  return d < 1 ? `${(d * 100).toPrecision(3)} cm` : `${d.toPrecision(4)} m`;
}
