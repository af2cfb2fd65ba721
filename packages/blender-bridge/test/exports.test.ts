import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as esm from '@da3js/blender-bridge';

const require = createRequire(import.meta.url);

describe('@da3js/blender-bridge exports map', () => {
  it('resolves the same API through import and require', () => {
    const cjs = require('@da3js/blender-bridge') as typeof esm;
    expect(esm.PACKAGE_NAME).toBe('@da3js/blender-bridge');
    expect(cjs.PACKAGE_NAME).toBe('@da3js/blender-bridge');
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
    expect(cjs.addonZipName('1.2.3')).toBe(esm.addonZipName('1.2.3'));
    expect(esm.addonZipName('1.2.3')).toBe('da3_blender-1.2.3.zip');
  });
});
