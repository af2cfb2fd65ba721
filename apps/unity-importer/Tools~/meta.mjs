// Unity .meta files for the UPM package: every file and folder Unity sees (not under a `~` folder,
// not hidden) needs one with a stable GUID, or an immutable (git URL / tarball) install warns and
// ignores the asset. GUIDs are md5("com.da3js.importer/" + path), so they never change for a path.
//   node apps/unity-importer/Tools~/meta.mjs          write the missing .meta files
//   node apps/unity-importer/Tools~/meta.mjs --check  list missing / orphaned ones (exit 1 if any)
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const hidden = (name) => name.startsWith('.') || name.endsWith('~') || name === 'node_modules' || name.endsWith('.meta');

/** Paths (relative, `/`-separated) of every asset Unity imports from the package, folders included. */
export function unityAssets(root = PACKAGE_ROOT) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      if (hidden(name)) continue;
      const p = join(dir, name);
      out.push(relative(root, p).split('\\').join('/'));
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

export function guidOf(path) {
  return createHash('md5').update(`com.da3js.importer/${path}`).digest('hex');
}

const tail = '  userData: \n  assetBundleName: \n  assetBundleVariant: \n';

export function metaText(path, root = PACKAGE_ROOT) {
  const head = `fileFormatVersion: 2\nguid: ${guidOf(path)}\n`;
  if (statSync(join(root, path)).isDirectory()) return `${head}folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n${tail}`;
  if (path === 'package.json') return `${head}PackageManifestImporter:\n  externalObjects: {}\n${tail}`;
  if (path.endsWith('.cs')) return `${head}MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n${tail}`;
  if (path.endsWith('.asmdef')) return `${head}AssemblyDefinitionImporter:\n  externalObjects: {}\n${tail}`;
  if (path.endsWith('.shader')) return `${head}ShaderImporter:\n  externalObjects: {}\n  defaultTextures: []\n  nonModifiableTextures: []\n${tail}`;
  if (/\.(md|json|txt)$/.test(path)) return `${head}TextScriptImporter:\n  externalObjects: {}\n${tail}`;
  return `${head}DefaultImporter:\n  externalObjects: {}\n${tail}`;
}

/** Missing .meta files, and .meta files whose asset is gone. */
export function checkMetas(root = PACKAGE_ROOT) {
  const assets = unityAssets(root);
  const missing = assets.filter((p) => !existsSync(join(root, `${p}.meta`)));
  const orphans = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.') || name.endsWith('~') || name === 'node_modules') continue;
      const p = join(dir, name);
      if (name.endsWith('.meta') && !existsSync(p.slice(0, -5))) orphans.push(relative(root, p));
      else if (!name.endsWith('.meta') && statSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return { assets, missing, orphans };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { missing, orphans } = checkMetas();
  if (process.argv.includes('--check')) {
    for (const m of missing) console.log(`missing: ${m}.meta`);
    for (const o of orphans) console.log(`orphan: ${o}`);
    process.exit(missing.length + orphans.length > 0 ? 1 : 0);
  }
  for (const m of missing) writeFileSync(join(PACKAGE_ROOT, `${m}.meta`), metaText(m));
  console.log(`wrote ${missing.length} .meta files; orphans: ${orphans.length ? orphans.join(', ') : 'none'}`);
}
