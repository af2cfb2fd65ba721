import { describe, expect, it } from 'vitest';
import committed from '../openapi.json';
import { openApiDocument } from '../src/openapi.js';

describe('apps/edge/openapi.json', () => {
  it('is what the routes’ schemas generate (regenerate: node apps/edge/scripts/openapi.mjs)', () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument('http://127.0.0.1:8787'))));
  });
});
