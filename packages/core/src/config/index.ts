export type * from './schema.js';
export { parseResolvedConfig, globalAttentionLayers, MAX_BLOCKS } from './parse-resolved.js';
export { CONFIG_INT_MAX } from './reader.js';
export { resolveReferenceConfig, DINOV2_FACTORIES } from './reference-config.js';
export * from './variants.js';
export * from './load-config.js';
