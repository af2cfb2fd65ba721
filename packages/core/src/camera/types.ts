/**
 * Camera value types. All matrices are **row-major** flat arrays (`m[r * cols + c]`).
 *
 * Conventions: OpenCV camera axes (x right, y down, z forward). `Extrinsics` are world→camera
 * `[R|t]` (3×4, "w2c"); camera→world poses are named `c2w` wherever they appear. `Intrinsics`
 * are the 3×3 pinhole matrix `[[fx,0,cx],[0,fy,cy],[0,0,1]]` in pixels of the processed image.
 */

/** Any flat numeric array a matrix can live in. */
export type NumArray = Float64Array | Float32Array | number[];

/** A read-only flat numeric array. */
export type ReadonlyNumArray = Readonly<Float64Array | Float32Array | readonly number[]>;

/** 3×3 row-major matrix (9 numbers). */
export type Mat3 = NumArray;
/** 3×4 row-major matrix `[R|t]` (12 numbers). */
export type Mat34 = NumArray;
/** 4×4 row-major matrix (16 numbers). */
export type Mat4 = NumArray;

/** 3×3 pinhole intrinsics in processed-image pixels (row-major, 9 numbers). */
export type Intrinsics = Mat3;
/** 3×4 world→camera extrinsics `[R|t]` (row-major, 12 numbers, OpenCV axes). */
export type Extrinsics = Mat34;
