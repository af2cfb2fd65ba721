/**
 * apps/unity-importer in the repository's test run: test/unity-importer.test.ts writes the golden
 * exports from the tiny models, compiles the C# core + NUnit tests with Debian's Mono (mcs) and runs
 * them with nunit-console, and compiles the Unity layer against the UnityEngine/UnityEditor stub
 * assemblies in Stubs~/.
 *
 * CommonJS on purpose: this folder's package.json is the Unity package manifest, which must not say
 * `"type": "module"` (UPM reads `type` as its own package type).
 */
module.exports = {
  test: {
    name: 'unity-importer',
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
};
