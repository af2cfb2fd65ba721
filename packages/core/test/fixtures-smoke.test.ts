import { describe, expect, it } from 'vitest';
import { loadTensors } from './helpers/fixtures.js';

describe('fixture loader', () => {
  it('reads a geometry case through the core safetensors reader', async () => {
    const t = await loadTensors('geometry/affine_inverse/inputs.safetensors');
    expect(t.A44.dtype).toBe('F64');
    expect(t.A44.shape).toEqual([2, 3, 4, 4]);
    expect(t.A44.data).toBeInstanceOf(Float64Array);
  });
});
