/**
 * Host (plain TypeScript) versions of the network's small geometric pieces: UV and ViT position
 * embeddings, 2D RoPE, reference-view selection and align-corners bilinear resize. They are the
 * graph builder's references in tests and the source of constant tables.
 */
export * from './uv-pos-embed.js';
export * from './pos-embed-interp.js';
export * from './rope2d.js';
export * from './ref-view.js';
export * from './interpolate.js';
