import { resolveReferenceConfig } from './reference-config.js';
import type { ModelConfig } from './schema.js';

/** Every official DA3 release (Hugging Face model ids without the `depth-anything/` owner). */
export type VariantId =
  | 'DA3-SMALL'
  | 'DA3-BASE'
  | 'DA3-LARGE'
  | 'DA3-LARGE-1.1'
  | 'DA3-GIANT'
  | 'DA3-GIANT-1.1'
  | 'DA3METRIC-LARGE'
  | 'DA3MONO-LARGE'
  | 'DA3NESTED-GIANT-LARGE'
  | 'DA3NESTED-GIANT-LARGE-1.1';

/** Licence of a checkpoint (SPDX identifiers). */
export type VariantLicense = 'Apache-2.0' | 'CC-BY-NC-4.0';

/** What a variant predicts. */
export interface VariantCapabilities {
  /** Camera poses (extrinsics + intrinsics) from the camera head or the ray map. */
  readonly pose: boolean;
  /** Accepts known cameras (the pose-conditioned graph). */
  readonly poseConditioning: boolean;
  /** Depth in metres (after the reference's scaling). */
  readonly metric: boolean;
  /** A sky map. */
  readonly sky: boolean;
  /** The 3D-Gaussian head. */
  readonly gaussians: boolean;
}

/** One official release: identity, licence, architecture and capabilities. */
export interface Variant {
  readonly id: VariantId;
  /** The reference's config name (`configs/<modelName>.yaml`, `config.json` `model_name`). */
  readonly modelName: string;
  /** Hugging Face repository id. */
  readonly hfRepo: `depth-anything/${VariantId}`;
  readonly license: VariantLicense;
  readonly config: ModelConfig;
  readonly capabilities: VariantCapabilities;
  /** Parameters stored in the checkpoint (tied tensors counted once). */
  readonly parameters: number;
  /** Superseded by a `-1.1` release (the README recommends those). */
  readonly deprecated: boolean;
}

const obj = (name: string) => ({ __object__: { name } });

const anyView = (name: 'vits' | 'vitb' | 'vitl' | 'vitg', outLayers: number[], altStart: number, features: number, outChannels: number[]) => {
  const width = { vits: 384, vitb: 768, vitl: 1024, vitg: 1536 }[name];
  const net: Record<string, unknown> = {
    ...obj('DepthAnything3Net'),
    net: { ...obj('DinoV2'), name, out_layers: outLayers, alt_start: altStart, qknorm_start: altStart, rope_start: altStart, cat_token: true },
    head: { ...obj('DualDPT'), dim_in: 2 * width, output_dim: 2, features, out_channels: outChannels },
    cam_enc: { ...obj('CameraEnc'), dim_out: width },
    cam_dec: { ...obj('CameraDec'), dim_in: 2 * width },
  };
  if (name === 'vitg') {
    net.gs_head = { ...obj('GSDPT'), dim_in: 2 * width, output_dim: 38, features, out_channels: outChannels };
    net.gs_adapter = { ...obj('GaussianAdapter'), sh_degree: 2, pred_color: false, pred_offset_depth: true, pred_offset_xy: true, gaussian_scale_min: 1e-5, gaussian_scale_max: 30 };
  }
  return net;
};

const monoLarge = () => ({
  ...obj('DepthAnything3Net'),
  net: { ...obj('DinoV2'), name: 'vitl', out_layers: [4, 11, 17, 23], alt_start: -1, qknorm_start: -1, rope_start: -1, cat_token: false },
  head: { ...obj('DPT'), dim_in: 1024, output_dim: 1, features: 256, out_channels: [256, 512, 1024, 1024] },
});

const SMALL = resolveReferenceConfig(anyView('vits', [5, 7, 9, 11], 4, 64, [48, 96, 192, 384]));
const BASE = resolveReferenceConfig(anyView('vitb', [5, 7, 9, 11], 4, 128, [96, 192, 384, 768]));
const LARGE = resolveReferenceConfig(anyView('vitl', [11, 15, 19, 23], 8, 256, [256, 512, 1024, 1024]));
const GIANT = resolveReferenceConfig(anyView('vitg', [19, 27, 33, 39], 13, 256, [256, 512, 1024, 1024]));
const MONO = resolveReferenceConfig(monoLarge());
const NESTED = resolveReferenceConfig({ ...obj('NestedDepthAnything3Net'), anyview: anyView('vitg', [19, 27, 33, 39], 13, 256, [256, 512, 1024, 1024]), metric: monoLarge() });

const ANY: VariantCapabilities = { pose: true, poseConditioning: true, metric: false, sky: false, gaussians: false };
const ANY_GS: VariantCapabilities = { ...ANY, gaussians: true };
const MONO_CAPS: VariantCapabilities = { pose: false, poseConditioning: false, metric: false, sky: true, gaussians: false };
const METRIC_CAPS: VariantCapabilities = { ...MONO_CAPS, metric: true };
const NESTED_CAPS: VariantCapabilities = { pose: true, poseConditioning: true, metric: true, sky: true, gaussians: true };

const variant = (
  id: VariantId,
  modelName: string,
  license: VariantLicense,
  config: ModelConfig,
  capabilities: VariantCapabilities,
  parameters: number,
  deprecated = false,
): Variant => Object.freeze({ id, modelName, hfRepo: `depth-anything/${id}` as const, license, config, capabilities, parameters, deprecated });

/**
 * The official DA3 releases as typed data (the registry the CLI, the web picker and the converter
 * read). Architectures are resolved from the reference's configs; `-1.1` releases share their
 * variant's architecture (retrained weights).
 */
export const VARIANTS: Readonly<Record<VariantId, Variant>> = Object.freeze({
  'DA3-SMALL': variant('DA3-SMALL', 'da3-small', 'Apache-2.0', SMALL, ANY, 34_299_463),
  'DA3-BASE': variant('DA3-BASE', 'da3-base', 'Apache-2.0', BASE, ANY, 135_366_599),
  'DA3-LARGE': variant('DA3-LARGE', 'da3-large', 'CC-BY-NC-4.0', LARGE, ANY, 410_941_767, true),
  'DA3-LARGE-1.1': variant('DA3-LARGE-1.1', 'da3-large', 'CC-BY-NC-4.0', LARGE, ANY, 410_941_767),
  'DA3-GIANT': variant('DA3-GIANT', 'da3-giant', 'CC-BY-NC-4.0', GIANT, ANY_GS, 1_355_674_125, true),
  'DA3-GIANT-1.1': variant('DA3-GIANT-1.1', 'da3-giant', 'CC-BY-NC-4.0', GIANT, ANY_GS, 1_355_674_125),
  'DA3METRIC-LARGE': variant('DA3METRIC-LARGE', 'da3metric-large', 'Apache-2.0', MONO, METRIC_CAPS, 334_171_394),
  'DA3MONO-LARGE': variant('DA3MONO-LARGE', 'da3mono-large', 'Apache-2.0', MONO, MONO_CAPS, 334_171_394),
  'DA3NESTED-GIANT-LARGE': variant('DA3NESTED-GIANT-LARGE', 'da3nested-giant-large', 'CC-BY-NC-4.0', NESTED, NESTED_CAPS, 1_689_845_519, true),
  'DA3NESTED-GIANT-LARGE-1.1': variant('DA3NESTED-GIANT-LARGE-1.1', 'da3nested-giant-large', 'CC-BY-NC-4.0', NESTED, NESTED_CAPS, 1_689_845_519),
});

/** All variant ids in a stable order. */
export const VARIANT_IDS = Object.freeze(Object.keys(VARIANTS) as VariantId[]);

/**
 * Looks a variant up by id (`DA3-SMALL`), Hugging Face repo (`depth-anything/DA3-SMALL`) or
 * reference model name (`da3-large`, which picks the newest release, here `DA3-LARGE-1.1`); an id
 * in other letter case matches last.
 * @returns the variant, or `undefined` when nothing matches
 */
export function findVariant(idOrRepoOrModelName: string): Variant | undefined {
  const key = idOrRepoOrModelName.trim().replace(/^depth-anything\//i, '');
  const exact = VARIANT_IDS.find((id) => id === key);
  if (exact) return VARIANTS[exact];
  const byName = VARIANT_IDS.filter((id) => VARIANTS[id].modelName === key.toLowerCase());
  if (byName.length) return VARIANTS[byName.find((id) => !VARIANTS[id].deprecated) ?? byName[0]];
  const loose = VARIANT_IDS.find((id) => id === key.toUpperCase());
  return loose ? VARIANTS[loose] : undefined;
}
