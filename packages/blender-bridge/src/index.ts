/**
 * @da3js/blender-bridge — the Depth Anything 3 add-on for Blender (Python, in `addon/`) and what
 * builds it: the add-on's wire contract generated from `@da3js/core/protocol`
 * ({@link addonContract}), its manifest and `bl_info` version ({@link blenderManifest},
 * {@link stampBlInfoVersion}), and the installable zip ({@link buildAddonZip}), which
 * `npm run build` writes to `dist/da3_blender-<version>.zip`.
 */

/** The npm name of this package. */
export const PACKAGE_NAME = '@da3js/blender-bridge' as const;

export { type AddonContract, addonContract } from './contract.js';
export { ADDON_ID, EXTENSION_BLENDER_MIN, blenderManifest, stampBlInfoVersion } from './manifest.js';
export { type AddonSources, addonFiles, addonZipName, buildAddonZip } from './zip.js';
