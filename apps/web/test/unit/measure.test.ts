import { describe, expect, it } from 'vitest';
import { closestHit, distance3, formatDistance, nearestPointToRay, pointRayDistance } from '../../src/viewer/measure.js';

describe('measure maths', () => {
  it('distance3 is the Euclidean distance', () => {
    expect(distance3([0, 0, 0], [3, 4, 12])).toBe(13);
    expect(distance3([1, 2, 3], [1, 2, 3])).toBe(0);
  });

  it('pointRayDistance: perpendicular distance and ray parameter; behind the origin measures to the origin', () => {
    expect(pointRayDistance([1, 2, 5], [0, 0, 0], [0, 0, 2])).toEqual({ distance: Math.hypot(1, 2), t: 2.5 });
    expect(pointRayDistance([0, 3, -4], [0, 0, 0], [0, 0, 1])).toEqual({ distance: 5, t: 0 });
    expect(() => pointRayDistance([0, 0, 0], [0, 0, 0], [0, 0, 0])).toThrow(RangeError);
  });

  it('nearestPointToRay picks the point closest to the ray within the threshold, nearer one on ties', () => {
    const pts = [0.3, 0, 5, 0.1, 0, 9, 0.1, 0, 4, 5, 5, 5];
    expect(nearestPointToRay(pts, [0, 0, 0], [0, 0, 1], 0.5)).toBe(2); // 0.1 off the ray at z = 4 beats z = 9
    expect(nearestPointToRay(pts, [0, 0, 0], [0, 0, 1], 0.05)).toBe(-1);
    expect(nearestPointToRay([], [0, 0, 0], [0, 0, 1], 1)).toBe(-1);
  });

  it('closestHit prefers the smallest distanceToRay, then the smallest distance', () => {
    const hits = [
      { index: 1, distanceToRay: 0.2, distance: 1 },
      { index: 2, distanceToRay: 0.1, distance: 5 },
      { index: 3, distanceToRay: 0.1, distance: 3 },
      { distanceToRay: 0, distance: 0 },
    ];
    expect(closestHit(hits)?.index).toBe(3);
    expect(closestHit([])).toBeUndefined();
  });

  it('formatDistance: metres (cm below 1 m) when metric, else units', () => {
    expect(formatDistance(2.5, true)).toBe('2.500 m');
    expect(formatDistance(0.123, true)).toBe('12.3 cm');
    expect(formatDistance(2.5, false)).toBe('2.500 units');
    expect(formatDistance(Number.NaN, false)).toBe('—');
  });
});
