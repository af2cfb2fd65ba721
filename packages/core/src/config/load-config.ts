import { parse as parseYaml } from 'yaml';
import { Da3Error } from '../errors.js';
import { parseResolvedConfig } from './parse-resolved.js';
import { isObj } from './reader.js';
import { resolveReferenceConfig } from './reference-config.js';
import type { ModelConfig } from './schema.js';
import { VARIANT_IDS, VARIANTS, findVariant } from './variants.js';

/** Longest configuration text read (an official `config.json` is ~1 KB, the test fixtures' up to 75 KB). */
export const MAX_CONFIG_CHARS = 2 ** 20;

/**
 * Longest text read as YAML, i.e. one that is not valid JSON (a reference YAML config is ~2 KB).
 * The YAML parser makes an error object, with a stack trace, for every token it cannot place
 * (~20 µs and ~3 KB each), so a garbage text of a megabyte cost seconds and gigabytes.
 */
export const MAX_YAML_CHARS = 2 ** 15;

/** `line L, column C` (1-based) of a character offset, for error messages. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return `line ${line}, column ${offset - start + 1}`;
}

/**
 * Parses configuration text: JSON first (linear whatever the text holds; duplicate keys keep the
 * last, as Python's `json.load` does), then YAML for texts up to {@link MAX_YAML_CHARS}. YAML
 * errors are not "prettified" (that formats every error with its context: quadratic in the text).
 */
function parseConfigText(source: string): unknown {
  if (source.length > MAX_CONFIG_CHARS) {
    throw new Da3Error('BAD_CONFIG', `config: text of ${source.length} characters is longer than the ${MAX_CONFIG_CHARS} a configuration may have`);
  }
  let jsonError: Error;
  try {
    return JSON.parse(source);
  } catch (error) {
    jsonError = error as Error;
  }
  if (source.length > MAX_YAML_CHARS) {
    throw new Da3Error(
      'BAD_CONFIG',
      `config: not valid JSON (${jsonError.message}), and at ${source.length} characters too long to be read as YAML (at most ${MAX_YAML_CHARS})`,
    );
  }
  try {
    return parseYaml(source, { maxAliasCount: 100, prettyErrors: false });
  } catch (cause) {
    const { message, pos } = cause as Error & { pos?: [number, number] };
    const at = pos ? ` at ${lineColumn(source, pos[0])}` : '';
    throw new Da3Error('BAD_CONFIG', `config: not valid JSON or YAML (${message.split('\n')[0]}${at})`, { cause });
  }
}

/**
 * Reads a model configuration from JSON or YAML text (or an already parsed object) and validates
 * it. Accepted layouts:
 * - a Hugging Face `config.json` of an official release (`{"model_name": "da3-large", …}`);
 * - a document with a `resolved` block (the fixtures' manifests and tiny-model `config.json`);
 * - a bare resolved block (`{kind, backbone, head, cam_enc, cam_dec, …}`, snake_case or camelCase);
 * - the reference's YAML layout (`__object__` markers, `net.name: vitl`, …; see
 *   {@link resolveReferenceConfig}).
 *
 * @throws Da3Error `BAD_CONFIG` naming the bad field (`config.backbone.out_layers must be …`), or
 *   for text that is not JSON or YAML, longer than {@link MAX_CONFIG_CHARS}, or not JSON and longer
 *   than {@link MAX_YAML_CHARS}; `UNKNOWN_VARIANT` for an unknown `model_name`.
 */
export function loadConfig(source: string | Record<string, unknown>): ModelConfig {
  const value: unknown = typeof source === 'string' ? parseConfigText(source) : source;
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
