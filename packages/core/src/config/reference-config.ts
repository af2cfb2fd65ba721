import { Da3Error } from '../errors.js';
import { parseResolvedConfig } from './parse-resolved.js';
import { type Obj, inconsistent, isObj, lookup, object, optionalObject, str } from './reader.js';
import type { ModelConfig } from './schema.js';

/** DINOv2 factory sizes (dinov2.py): width, depth, heads, FFN. */
export const DINOV2_FACTORIES = Object.freeze({
  vits: { embedDim: 384, depth: 12, numHeads: 6, ffn: 'mlp' },
  vitb: { embedDim: 768, depth: 12, numHeads: 12, ffn: 'mlp' },
  vitl: { embedDim: 1024, depth: 24, numHeads: 16, ffn: 'mlp' },
  vitg: { embedDim: 1536, depth: 40, numHeads: 24, ffn: 'swiglu' },
} as const);

function objectName(o: Obj): string | undefined {
  const meta = o.__object__;
  return isObj(meta) && typeof meta.name === 'string' ? meta.name : undefined;
}

function pick(o: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of keys) {
    const { value } = lookup(o, k);
    if (value !== undefined) out[k] = value;
  }
  return out;
}

function resolveNet(n: Obj, path: string): Obj {
  const net = object(n, 'net', path);
  const name = str(net, 'name', `${path}.net`);
  const factory = DINOV2_FACTORIES[name as keyof typeof DINOV2_FACTORIES];
  if (!factory) inconsistent(`${path}.net.name`, `must be one of ${Object.keys(DINOV2_FACTORIES).join(', ')}, got ${JSON.stringify(name)}`);
  const backbone = {
    name,
    embed_dim: factory.embedDim,
    depth: factory.depth,
    num_heads: factory.numHeads,
    ffn: factory.ffn,
    ...pick(net, ['out_layers', 'alt_start', 'qknorm_start', 'rope_start', 'cat_token']),
  };
  const headObj = object(n, 'head', path);
  const headType = objectName(headObj);
  if (headType !== 'DualDPT' && headType !== 'DPT') inconsistent(`${path}.head.__object__.name`, `must be DualDPT or DPT, got ${JSON.stringify(headType)}`);
  const head = { type: headType, ...pick(headObj, ['dim_in', 'features', 'out_channels', 'output_dim', 'pos_embed', 'use_sky_head']) };
  const camEnc = optionalObject(n, 'cam_enc', path);
  const camDec = optionalObject(n, 'cam_dec', path);
  const gsHead = optionalObject(n, 'gs_head', path);
  const gsAdapter = optionalObject(n, 'gs_adapter', path);
  return {
    kind: 'DepthAnything3Net',
    backbone,
    head,
    cam_enc: camEnc ? pick(camEnc, ['dim_out', 'trunk_depth', 'num_heads']) : null,
    cam_dec: camDec ? pick(camDec, ['dim_in']) : null,
    gs_head: gsHead ? { type: 'GSDPT', ...pick(gsHead, ['dim_in', 'features', 'out_channels', 'output_dim']) } : null,
    gs_adapter: gsAdapter
      ? pick(gsAdapter, ['sh_degree', 'pred_color', 'pred_offset_depth', 'pred_offset_xy', 'gaussian_scale_min', 'gaussian_scale_max'])
      : null,
  };
}

/**
 * Resolves a config in the reference's YAML layout (`configs/da3-*.yaml` with inheritance
 * already applied: `__object__` markers, `net.name` = vits/vitb/vitl/vitg, `head`, `cam_enc`,
 * `cam_dec`, `gs_head`, `gs_adapter`, or `anyview` + `metric` for Nested) into a
 * {@link ModelConfig}, filling what the reference's constructors derive (widths from the factory
 * name, FFN kind and hidden size, eps values, derived layer lists).
 */
export function resolveReferenceConfig(config: Obj, path = 'config'): ModelConfig {
  const kind = objectName(config) ?? (isObj(config.anyview) ? 'NestedDepthAnything3Net' : 'DepthAnything3Net');
  if (kind === 'NestedDepthAnything3Net') {
    return parseResolvedConfig(
      { kind, anyview: resolveNet(object(config, 'anyview', path), `${path}.anyview`), metric: resolveNet(object(config, 'metric', path), `${path}.metric`) },
      path,
    );
  }
  if (kind !== 'DepthAnything3Net') throw new Da3Error('BAD_CONFIG', `config: ${path}.__object__.name must be DepthAnything3Net or NestedDepthAnything3Net, got ${JSON.stringify(kind)}`);
  return parseResolvedConfig(resolveNet(config, path), path);
}
