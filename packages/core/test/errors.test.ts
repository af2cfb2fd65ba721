import { describe, expect, it } from 'vitest';
import { Da3Error, abortedError, isDa3Error, throwIfAborted } from '../src/index.js';

describe('Da3Error identity', () => {
  it('instanceof / isDa3Error hold for errors made by another copy of the class (CJS + ESM, subpath entries)', () => {
    // Another bundle's copy: a different class object that brands its instances the same way.
    class OtherCopy extends Error {
      readonly code = 'IO';
      constructor() {
        super('from another copy');
        Object.defineProperty(this, Symbol.for('@da3js/core.Da3Error'), { value: true });
      }
    }
    const foreign = new OtherCopy();
    expect(foreign instanceof Da3Error).toBe(true);
    expect(isDa3Error(foreign, 'IO')).toBe(true);
    expect(isDa3Error(new Error('plain'))).toBe(false);
    expect(isDa3Error({ code: 'IO', message: 'duck' })).toBe(false);
    expect(null instanceof Da3Error).toBe(false);
  });

  it('subclasses keep the prototype check', () => {
    class Sub extends Da3Error {}
    expect(new Sub('IO', 'x') instanceof Da3Error).toBe(true);
    expect(new Sub('IO', 'x') instanceof Sub).toBe(true);
    expect(new Da3Error('IO', 'x') instanceof Sub).toBe(false);
  });
});

describe('throwIfAborted', () => {
  it('throws ABORTED with the reason as cause once the signal fired, and nothing before', () => {
    const reason = new Error('user');
    expect(() => throwIfAborted({ aborted: false }, 'inference')).not.toThrow();
    expect(() => throwIfAborted(undefined, 'inference')).not.toThrow();
    let caught: unknown;
    try {
      throwIfAborted({ aborted: true, reason }, 'inference');
    } catch (e) {
      caught = e;
    }
    expect(isDa3Error(caught, 'ABORTED')).toBe(true);
    expect((caught as Error).message).toBe('inference aborted');
    expect((caught as Error).cause).toBe(reason);
    expect(abortedError(AbortSignal.abort(reason), 'export').cause).toBe(reason);
  });
});
