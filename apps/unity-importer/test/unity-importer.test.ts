/**
 * apps/unity-importer in `npm test`: the C# core compiled with Debian's Mono (mcs) and its NUnit
 * tests run with nunit-console against golden exports written here from the tiny models, the job
 * client against a real `da3 backend` (the @da3js/node inference service, tiny model), and the
 * Unity layer compiled against the UnityEngine/UnityEditor stub assemblies in `Stubs~/`.
 *
 * Mono is required: without `mcs`, `mono` and `nunit-console` (Debian: mono-devel nunit-console
 * libnunit-cil-dev) these tests fail with that instruction — they never skip.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DepthAnything3, type ServingService, createInferenceService, serveInferenceService } from '@da3js/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../../../test-utils/fixtures.js';
import { type GoldenReport, writeGoldens } from './golden.js';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const NUNIT = '/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll';
const TOKEN = 'unity-importer-test-token-0123456789';
const work = mkdtempSync(join(tmpdir(), 'da3js-unity-'));
const out = join(work, 'bin');
mkdirSync(out);

let golden: GoldenReport;
let model: DepthAnything3 | undefined;
let serving: ServingService | undefined;

/** Every `.cs` file under `dir` (recursively), sorted, relative to the package. */
function sources(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.cs')) found.push(relative(PKG, p));
    }
  };
  walk(join(PKG, dir));
  return found;
}

interface Compiled {
  ok: boolean;
  output: string;
  seconds: number;
}

/**
 * `mcs` (C# 7.2, every warning an error) from the package folder. With `docs`, an XML doc file is
 * written and a public member without a doc comment (CS1591) fails the build; without, CS1591 is off.
 */
function mcs(outFile: string, files: string[], refs: string[], extra: string[] = [], docs = false): Compiled {
  const t0 = performance.now();
  const doc = docs ? ['-warn:4', `-doc:${outFile.replace(/\.dll$/, '.xml')}`] : ['-nowarn:1591'];
  const args = ['-langversion:7.2', '-target:library', ...doc, '-warnaserror+', `-out:${outFile}`, ...refs.map((r) => `-r:${r}`), ...extra, ...files];
  const r = spawnSync('mcs', args, { cwd: PKG, encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`, seconds: (performance.now() - t0) / 1000 };
}

function need(tool: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${tool} is missing: the Unity importer's C# tests need Debian's Mono and NUnit 2.6 (apt-get install -y mono-devel nunit-console libnunit-cil-dev); .ci/run installs them`);
  }
}

const report: Record<string, string | number> = {};

beforeAll(async () => {
  const t0 = performance.now();
  golden = await writeGoldens(join(work, 'golden'), join(work, 'cache'));
  report['golden exports (s)'] = Number(golden.seconds.toFixed(2));
  model = await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny'), { cacheDir: join(work, 'cache') });
  const service = await createInferenceService(model, { token: TOKEN, stateDir: join(work, 'backend-state') });
  serving = await serveInferenceService(service, { port: 0 });
  report['setup (s)'] = Number(((performance.now() - t0) / 1000).toFixed(2));
});

afterAll(async () => {
  await serving?.close();
  await model?.dispose();
  rmSync(work, { recursive: true, force: true });
  console.log(`unity-importer report:\n${Object.entries(report).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
});

describe('unity-importer C# core (Mono + NUnit 2.6)', () => {
  it('has the tools (mcs, mono, nunit-console, NUnit 2.6 framework)', () => {
    for (const tool of ['mcs', 'mono', 'nunit-console']) need(tool);
    expect(existsSync(NUNIT), `${NUNIT} (libnunit-cil-dev)`).toBe(true);
  });

  it('compiles the core without any UnityEngine reference, warnings as errors, every public member documented', () => {
    const files = sources('Runtime/Core');
    expect(files.length).toBeGreaterThan(10);
    const c = mcs(join(out, 'Da3js.Importer.Core.dll'), files, ['System.IO.Compression.dll'], [], true);
    report['core compile (s)'] = Number(c.seconds.toFixed(2));
    expect(c.ok, `warnings are errors, and so is a public member without a doc comment (CS1591):\n${c.output}`).toBe(true);
    expect(c.output).not.toMatch(/error|warning/);
    // The doc check bites: a public member without a comment does not compile.
    const undocumented = join(work, 'Undocumented.cs');
    writeFileSync(undocumented, 'namespace Da3js.Importer { /// <summary>x</summary>\npublic static class Probe { public static int Undocumented; } }\n');
    const probe = mcs(join(out, 'Probe.dll'), [undocumented], [], [], true);
    expect(probe.ok).toBe(false);
    expect(probe.output).toMatch(/CS1591.*Undocumented/);
    for (const f of files) expect(readFileSync(join(PKG, f), 'utf8'), `${f} must not use UnityEngine`).not.toMatch(/\bUnityEngine\b|\bUnityEditor\b/);
  });

  it('runs the NUnit tests against the golden exports and a live da3 backend', async () => {
    const tests = mcs(join(out, 'Da3js.Importer.Core.Tests.dll'), sources('Tests/Core'), [join(out, 'Da3js.Importer.Core.dll'), NUNIT, 'System.Net.Http.dll', 'System.IO.Compression.dll', 'System.Core.dll']);
    report['tests compile (s)'] = Number(tests.seconds.toFixed(2));
    expect(tests.ok, tests.output).toBe(true);
    cpSync(NUNIT, join(out, 'nunit.framework.dll'));
    const t0 = performance.now();
    // Asynchronous: the backend answers from this process while nunit-console runs.
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) => {
      const child = spawn('nunit-console', ['Da3js.Importer.Core.Tests.dll', '-nologo', '-noshadow', `-xml=${join(out, 'TestResult.xml')}`], {
        cwd: out,
        env: {
          ...process.env,
          DA3_GOLDEN_DIR: join(work, 'golden'),
          DA3_REQUIRE_GOLDEN: '1',
          DA3_BACKEND_URL: serving!.url,
          DA3_BACKEND_TOKEN: TOKEN,
          DA3_BACKEND_IMAGES: golden.images,
          TMPDIR: work,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => ok({ code, stdout, stderr }));
    });
    report['nunit run (s)'] = Number(((performance.now() - t0) / 1000).toFixed(2));
    const xml = existsSync(join(out, 'TestResult.xml')) ? readFileSync(join(out, 'TestResult.xml'), 'utf8') : '';
    const attr = (name: string) => Number(new RegExp(`<test-results[^>]* ${name}="(\\d+)"`).exec(xml)?.[1] ?? Number.NaN);
    const summary = { total: attr('total'), failures: attr('failures'), errors: attr('errors'), ignored: attr('ignored'), notRun: attr('not-run'), inconclusive: attr('inconclusive') };
    const metrics = Object.fromEntries([...run.stdout.matchAll(/METRIC (\S+) (\S+)$/gm)].map((m) => [m[1], Number(m[2])]));
    for (const [k, v] of Object.entries(metrics)) report[k] = v;
    report['nunit tests'] = summary.total;
    const failed = run.code !== 0 || summary.failures !== 0 || summary.errors !== 0;
    expect(failed, `nunit-console exited ${run.code}:\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-2000)}`).toBe(false);
    expect(summary.total).toBeGreaterThanOrEqual(30);
    expect(summary.ignored + summary.notRun + summary.inconclusive, 'no test may be skipped here').toBe(0);
    // The headline numbers, asserted again on this side of the fence.
    expect(metrics['ply_binary.points']).toBe(golden.anyview.points);
    expect(metrics['glb.points']).toBe(golden.anyview.points);
    expect(metrics['gs_sh3.gaussians']).toBe(golden.gs.gaussians);
    for (const key of ['ply_binary', 'ply_ascii', 'glb', 'colmap_binary', 'colmap_text']) expect(metrics[`${key}.max_abs_position_error`], key).toBeLessThanOrEqual(1e-6);
    expect(metrics['projection.max_pixel_error']).toBeLessThanOrEqual(1e-3);
  });
});

describe('unity-importer UPM package layout', () => {
  it('has a stable .meta file for every asset Unity sees, none orphaned, GUIDs unique', async () => {
    // @ts-expect-error — a plain .mjs tool without types
    const meta = (await import('../Tools~/meta.mjs')) as {
      checkMetas: () => { assets: string[]; missing: string[]; orphans: string[] };
      guidOf: (path: string) => string;
    };
    const { assets, missing, orphans } = meta.checkMetas();
    expect(missing, 'run node apps/unity-importer/Tools~/meta.mjs').toEqual([]);
    expect(orphans).toEqual([]);
    const guids = assets.map((p) => readFileSync(join(PKG, `${p}.meta`), 'utf8').match(/^guid: ([0-9a-f]{32})$/m)?.[1]);
    expect(new Set(guids).size).toBe(assets.length);
    expect(guids).toEqual(assets.map(meta.guidOf));
    for (const must of ['package.json', 'README.md', 'CHANGELOG.md', 'Runtime/Core/Da3js.Importer.Core.asmdef', 'Runtime/Da3js.Importer.asmdef', 'Editor/Da3js.Importer.Editor.asmdef', 'Tests/Core/Da3js.Importer.Core.Tests.asmdef', 'Runtime/Resources/Da3PointCloud.shader']) {
      expect(assets, must).toContain(must);
    }
    const manifest = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('com.da3js.importer');
    expect(manifest.unity).toBe('2022.3');
    expect(manifest.dependencies, 'UPM would read npm dependencies as Unity packages').toBeUndefined();
    const core = JSON.parse(readFileSync(join(PKG, 'Runtime/Core/Da3js.Importer.Core.asmdef'), 'utf8'));
    expect(core.noEngineReferences).toBe(true);
    for (const s of manifest.samples) expect(existsSync(join(PKG, s.path)), s.path).toBe(true);
  });
});

describe('unity-importer Unity layer (compiled against the stub UnityEngine/UnityEditor in Stubs~)', () => {
  const engine = join(out, 'UnityEngine.dll');
  const editor = join(out, 'UnityEditor.dll');

  it('compiles the stubs, then Runtime/ and Editor/ against them with warnings as errors', () => {
    need('mcs');
    if (!existsSync(join(out, 'Da3js.Importer.Core.dll'))) {
      const core = mcs(join(out, 'Da3js.Importer.Core.dll'), sources('Runtime/Core'), ['System.IO.Compression.dll']);
      expect(core.ok, core.output).toBe(true);
    }
    const e = mcs(engine, ['Stubs~/UnityEngine.cs'], [], ['-nowarn:0067,0649']);
    expect(e.ok, e.output).toBe(true);
    const ed = mcs(editor, ['Stubs~/UnityEditor.cs'], [engine]);
    expect(ed.ok, ed.output).toBe(true);
    const runtime = mcs(join(out, 'Da3js.Importer.dll'), sources('Runtime/Unity'), [engine, join(out, 'Da3js.Importer.Core.dll')], [], true);
    report['unity runtime compile (s)'] = Number(runtime.seconds.toFixed(2));
    expect(runtime.ok, runtime.output).toBe(true);
    const ed2 = mcs(join(out, 'Da3js.Importer.Editor.dll'), sources('Editor'), [engine, editor, join(out, 'Da3js.Importer.Core.dll'), join(out, 'Da3js.Importer.dll')], [], true);
    report['unity editor compile (s)'] = Number(ed2.seconds.toFixed(2));
    expect(ed2.ok, ed2.output).toBe(true);
    const sample = mcs(join(out, 'Da3RuntimeLoaderSample.dll'), sources('Samples~'), [engine, join(out, 'Da3js.Importer.Core.dll'), join(out, 'Da3js.Importer.dll')]);
    expect(sample.ok, sample.output).toBe(true);
  });

  it('fails to compile when the code uses a Unity API the stubs (and Unity) do not have', () => {
    // A renamed property and a renamed method, as a Unity upgrade or a typo would bring them.
    const cases: [string, string, string, RegExp][] = [
      ['Runtime/Unity/Da3SceneBuilder.cs', 'cam.usePhysicalProperties = true;', 'cam.usePhysicalProperty = true;', /CS1061.*usePhysicalProperty/],
      ['Runtime/Unity/Da3SceneBuilder.cs', 'mesh.SetSubMesh(0,', 'mesh.SetSubmesh(0,', /CS1061.*SetSubmesh/],
      ['Runtime/Unity/UnityWebRequestTransport.cs', 'UnityWebRequest.Result.ConnectionError', 'UnityWebRequest.Result.NetworkError', /CS0117.*NetworkError/],
    ];
    const mutated = join(work, 'mutated');
    for (const [file, from, to, error] of cases) {
      rmSync(mutated, { recursive: true, force: true });
      cpSync(join(PKG, 'Runtime', 'Unity'), join(mutated, 'Runtime', 'Unity'), { recursive: true });
      const target = join(mutated, file);
      const text = readFileSync(target, 'utf8');
      expect(text.includes(from), `${file} contains ${from}`).toBe(true);
      writeFileSync(target, text.replace(from, to));
      const files = readdirSync(join(mutated, 'Runtime', 'Unity')).filter((f) => f.endsWith('.cs')).map((f) => join(mutated, 'Runtime', 'Unity', f));
      const r = mcs(join(out, 'Mutated.dll'), files, [engine, join(out, 'Da3js.Importer.Core.dll')]);
      expect(r.ok, `${to} compiled`).toBe(false);
      expect(r.output).toMatch(error);
    }
  });
});
