export type * from './schema.js';
export { parseResolvedConfig, globalAttentionLayers } from './parse-resolved.js';
export { resolveReferenceConfig, DINOV2_FACTORIES } from './reference-config.js';
export * from './variants.js';
export * from './load-config.js';
