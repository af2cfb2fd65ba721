/**
 * The add-on's metadata, written at build time from `package.json`'s version (changesets):
 * `blender_manifest.toml` for Blender 4.2+ extensions, and the `bl_info` version tuple of
 * `__init__.py` for legacy add-ons (Blender 3.3 LTS … 4.1).
 */
import { Da3Error } from '@da3js/core';

/** The add-on's id: the extension id and the legacy add-on's package folder. */
export const ADDON_ID = 'da3_blender';

/** Oldest Blender that installs the extension (older ones install it as a legacy add-on). */
export const EXTENSION_BLENDER_MIN = '4.2.0';

const TAGLINE = 'Photos to 3D scenes with Depth Anything 3, no PyTorch needed';
const PERMISSIONS: Record<string, string> = {
  network: 'Send photos to a DA3 service and download the results',
  files: 'Import DA3 results and read the photos to reconstruct',
};

function checkVersion(version: string): void {
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(version)) {
    throw new Da3Error('BAD_VALUE', `blender-bridge: version must be semver (x.y.z), got ${JSON.stringify(version)}`);
  }
}

const toml = (s: string) => JSON.stringify(s);

/** `blender_manifest.toml` (schema 1.0.0) for `version`. */
export function blenderManifest(version: string): string {
  checkVersion(version);
  const lines = [
    'schema_version = "1.0.0"',
    '',
    `id = ${toml(ADDON_ID)}`,
    `version = ${toml(version)}`,
    'name = "Depth Anything 3"',
    `tagline = ${toml(TAGLINE)}`,
    'maintainer = "da3js contributors"',
    'type = "add-on"',
    'website = "https://github.com/da3js/da3js/tree/main/packages/blender-bridge"',
    'tags = ["Import-Export", "Camera"]',
    `blender_version_min = ${toml(EXTENSION_BLENDER_MIN)}`,
    'license = ["SPDX:Apache-2.0"]',
    '',
    '[permissions]',
    ...Object.entries(PERMISSIONS).map(([k, v]) => `${k} = ${toml(v)}`),
    '',
    '[build]',
    'paths_exclude_pattern = ["__pycache__/", "*.pyc"]',
    '',
  ];
  return lines.join('\n');
}

/**
 * `__init__.py` with `bl_info["version"]` set to `version`'s `(major, minor, patch)`.
 * @throws Da3Error `BAD_VALUE` when the source has no single `"version": (…)` entry
 */
export function stampBlInfoVersion(initPy: string, version: string): string {
  checkVersion(version);
  const [major, minor, patch] = version.split(/[.+-]/).map(Number);
  const pattern = /"version": \(\d+, \d+, \d+\),/g;
  const found = initPy.match(pattern)?.length ?? 0;
  if (found !== 1) throw new Da3Error('BAD_VALUE', `blender-bridge: __init__.py must hold exactly one bl_info "version": (x, y, z) entry, found ${found}`);
  return initPy.replace(pattern, `"version": (${major}, ${minor}, ${patch}),`);
}
