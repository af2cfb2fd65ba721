/**
 * The installable add-on zip: one top folder `da3_blender/` holding `blender_manifest.toml`,
 * `__init__.py` (with `bl_info`), the add-on's modules, `remote/protocol.json` (the wire contract)
 * and `LICENSE`. Blender 4.2+ installs it as an extension (the manifest may sit in one top
 * folder); older versions install it as a legacy add-on (`Install…` unpacks the folder into
 * `scripts/addons/`). Entries are sorted and dated 1980-01-01, so a build is reproducible.
 */
import { Da3Error } from '@da3js/core';
import { strFromU8, strToU8, zipSync } from 'fflate';
import { addonContract } from './contract.js';
import { ADDON_ID, blenderManifest, stampBlInfoVersion } from './manifest.js';

/** The zip's file name for `version`. */
export function addonZipName(version: string): string {
  return `${ADDON_ID}-${version}.zip`;
}

/** Inputs of {@link buildAddonZip}. */
export interface AddonSources {
  /** The add-on's files by path relative to its package folder (`__init__.py`, `remote/http.py`, …). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The package version (semver), written into the manifest and `bl_info`. */
  readonly version: string;
  /** The licence text shipped as `LICENSE`. */
  readonly license: string;
}


/**
 * The add-on's files as shipped (relative to the zip root): sources with `bl_info` stamped, plus
 * the manifest, `remote/protocol.json` and `LICENSE`.
 * @throws Da3Error `BAD_VALUE` (no `__init__.py`, a bad path or version)
 */
export function addonFiles(sources: AddonSources): Map<string, Uint8Array> {
  const init = sources.files.get('__init__.py');
  if (!init) throw new Da3Error('BAD_VALUE', 'blender-bridge: the add-on sources have no __init__.py');
  const out = new Map<string, Uint8Array>();
  for (const [path, bytes] of sources.files) {
    if (path.startsWith('/') || path.split('/').some((p) => p === '' || p === '..' || p === '.')) throw new Da3Error('BAD_VALUE', `blender-bridge: bad add-on path ${JSON.stringify(path)}`);
    out.set(`${ADDON_ID}/${path}`, bytes);
  }
  out.set(`${ADDON_ID}/__init__.py`, strToU8(stampBlInfoVersion(strFromU8(init), sources.version)));
  out.set(`${ADDON_ID}/blender_manifest.toml`, strToU8(blenderManifest(sources.version)));
  out.set(`${ADDON_ID}/remote/protocol.json`, strToU8(`${JSON.stringify(addonContract(), null, 2)}\n`));
  out.set(`${ADDON_ID}/LICENSE`, strToU8(sources.license));
  return out;
}

/** The installable zip (deflated, sorted, fixed dates). */
export function buildAddonZip(sources: AddonSources): Uint8Array {
  const files = addonFiles(sources);
  const entries: Record<string, [Uint8Array, { mtime: Date; level: 9 }]> = {};
  const mtime = new Date(1980, 0, 1);
  for (const path of [...files.keys()].sort()) entries[path] = [files.get(path)!, { mtime, level: 9 }];
  return zipSync(entries);
}
