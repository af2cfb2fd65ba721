import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as esm from '@da3js/web';

const require = createRequire(import.meta.url);

describe('@da3js/web exports map', () => {
  it('resolves the same API through import and require', () => {
    const cjs = require('@da3js/web') as typeof esm;
    expect(esm.PACKAGE_NAME).toBe('@da3js/web');
    expect(cjs.PACKAGE_NAME).toBe('@da3js/web');
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
  });

  it('raises a typed Da3Error for features that are not there yet', () => {
    expect(() => esm.notImplemented('x')).toThrowError(/@da3js\/web: x is not available/);
    try {
      esm.notImplemented('x');
    } catch (e) {
      expect((e as { code?: string }).code).toBe('BAD_CONFIG');
    }
  });
});
