import { Da3Error } from '../errors.js';
import { assertPositiveInt } from '../camera/validate.js';

/**
 * Size of a batch of per-pixel maps: `views` maps of `height × width` pixels, row-major
 * (`index = (view·height + row)·width + col`). A ray map has 6 channels last
 * (`[N, height, width, 6]`), a depth or confidence map one (`[N, height, width]`).
 */
export interface MapDims {
  /** N, the number of views. */
  views: number;
  /** Rows of each map (pixels). */
  height: number;
  /** Columns of each map (pixels). */
  width: number;
}

/** Validates dims and an array's length against `dims · channels`. @internal */
export function checkMap(fn: string, what: string, a: ArrayLike<number> | null | undefined, dims: MapDims, channels: number): void {
  if (!dims || typeof dims !== 'object') throw new Da3Error('BAD_SHAPE', `${fn}: dims must be { views, height, width }, got ${dims}`);
  assertPositiveInt(fn, 'dims.views', dims.views);
  assertPositiveInt(fn, 'dims.height', dims.height);
  assertPositiveInt(fn, 'dims.width', dims.width);
  if (a == null) throw new Da3Error('EMPTY_INPUT', `${fn}: ${what} is missing`);
  const want = dims.views * dims.height * dims.width * channels;
  if (a.length !== want) {
    const shape = channels === 1 ? `[${dims.views}, ${dims.height}, ${dims.width}]` : `[${dims.views}, ${dims.height}, ${dims.width}, ${channels}]`;
    throw new Da3Error('BAD_SHAPE', `${fn}: ${what} must be ${shape} (${want} numbers), got ${a.length}`);
  }
}
