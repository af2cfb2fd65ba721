import { parse as parseYaml } from 'yaml';
import { Da3Error } from '../errors.js';
import { parseResolvedConfig } from './parse-resolved.js';
import { isObj } from './reader.js';
import { resolveReferenceConfig } from './reference-config.js';
import type { ModelConfig } from './schema.js';
import { VARIANT_IDS, VARIANTS, findVariant } from './variants.js';

/**
 * Reads a model configuration from JSON or YAML text (or an already parsed object) and validates
 * it. Accepted layouts:
 * - a Hugging Face `config.json` of an official release (`{"model_name": "da3-large", …}`);
 * - a document with a `resolved` block (the fixtures' manifests and tiny-model `config.json`);
 * - a bare resolved block (`{kind, backbone, head, cam_enc, cam_dec, …}`, snake_case or camelCase);
 * - the reference's YAML layout (`__object__` markers, `net.name: vitl`, …; see
 *   {@link resolveReferenceConfig}).
 *
 * @throws Da3Error `BAD_CONFIG` naming the bad field (`config.backbone.out_layers must be …`),
 *   `UNKNOWN_VARIANT` for an unknown `model_name`.
 */
export function loadConfig(source: string | Record<string, unknown>): ModelConfig {
  let value: unknown = source;
  if (typeof source === 'string') {
    try {
      value = parseYaml(source, { maxAliasCount: 100 });
    } catch (cause) {
      throw new Da3Error('BAD_CONFIG', `config: not valid JSON or YAML (${(cause as Error).message.split('\n')[0]})`, { cause });
    }
  }
  if (!isObj(value)) throw new Da3Error('BAD_CONFIG', `config: must be an object, got ${value === null ? 'null' : typeof value}`);
  if (isObj(value.resolved)) return parseResolvedConfig(value.resolved, 'config.resolved');
  if ('kind' in value || 'backbone' in value) return parseResolvedConfig(value);
  if ('__object__' in value || 'net' in value || 'anyview' in value) return resolveReferenceConfig(value);
  const modelName = value.model_name ?? value.modelName;
  if (typeof modelName === 'string') {
    const variant = findVariant(modelName);
    if (!variant) {
      const names = [...new Set(VARIANT_IDS.map((id) => VARIANTS[id].modelName))].join(', ');
      throw new Da3Error('UNKNOWN_VARIANT', `config: model_name ${JSON.stringify(modelName)} is not an official DA3 model; known: ${names}`);
    }
    return variant.config;
  }
  throw new Da3Error(
    'BAD_CONFIG',
    'config: unrecognised layout; expected model_name, a resolved block (kind/backbone/head), or the reference YAML layout (net/head)',
  );
}

/** True for the two-graph Nested configuration. */
export function isNestedConfig(config: ModelConfig): config is Extract<ModelConfig, { kind: 'NestedDepthAnything3Net' }> {
  return config.kind === 'NestedDepthAnything3Net';
}
