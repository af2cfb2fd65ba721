export type * from './types.js';
export * from './matrix.js';
