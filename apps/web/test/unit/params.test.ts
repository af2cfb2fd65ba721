import { describe, expect, it } from 'vitest';
import { parseUrlParams } from '../../src/params.js';

describe('URL parameters', () => {
  it('reads endpoint, model, device, threads, dtype, processRes and cache', () => {
    expect(parseUrlParams('?endpoint=http%3A%2F%2Fh%2Fhub&model=test-org/da3-tiny&device=wasm&threads=2&dtype=fp16&processRes=84&cache=0')).toEqual({
      endpoint: 'http://h/hub',
      model: 'test-org/da3-tiny',
      device: 'wasm',
      threads: 2,
      dtype: 'fp16',
      processRes: 84,
      cache: false,
    });
  });

  it('ignores unknown or malformed values', () => {
    expect(parseUrlParams('?device=cuda&threads=-1&dtype=int8&processRes=abc&model=')).toEqual({
      endpoint: undefined,
      model: undefined,
      device: undefined,
      threads: undefined,
      dtype: undefined,
      processRes: undefined,
      cache: undefined,
    });
  });
});
