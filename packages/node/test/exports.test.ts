import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as esm from '@da3js/node';

const require = createRequire(import.meta.url);

describe('@da3js/node exports map', () => {
  it('resolves the same API through import and require', () => {
    const cjs = require('@da3js/node') as typeof esm;
    expect(esm.PACKAGE_NAME).toBe('@da3js/node');
    expect(cjs.PACKAGE_NAME).toBe('@da3js/node');
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
  });

  it('raises a typed Da3Error for features that are not there yet', () => {
    expect(() => esm.notImplemented('x')).toThrowError(/@da3js\/node: x is not available/);
    try {
      esm.notImplemented('x');
    } catch (e) {
      expect((e as { code?: string }).code).toBe('BAD_CONFIG');
    }
  });
});
