/**
 * Exports into a folder under failure: typed IO errors naming the path, all-or-nothing multi-format
 * exports, and the sweep of what killed runs leave behind (kill -9, a full disk).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDa3Error } from '@da3js/core';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-utils/fixtures.js';
import { fixturePrediction } from '../../../test-utils/prediction.js';
import { requireTool } from '../../../test-utils/tools.js';
import { exportToDirectory } from '../src/export/export-dir.js';
import { sweepStaleTemps, tempPathFor } from '../src/hub/fs.js';

const work = mkdtempSync(join(tmpdir(), 'da3js-export-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every file under `dir` with its bytes, relative paths sorted. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; cause?: { code?: string } }> {
  try {
    await p;
  } catch (e) {
    return e as never;
  }
  throw new Error('expected a rejection');
}

describe('exportToDirectory: typed filesystem errors', () => {
  it('a folder path through a file is IO / ENOTDIR naming the path', async () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    const e = await rejection(exportToDirectory(await fixturePrediction(), { dir: join(file, 'out'), formats: 'mini_npz' }));
    expect(isDa3Error(e, 'IO')).toBe(true);
    expect(e.message).toMatch(/cannot create the export folder .*a-file\/out \(ENOTDIR: a part of the path is a file, not a folder\)/);
    expect(e.cause?.code).toBe('ENOTDIR');
  });

  it('a full disk is IO / ENOSPC naming the file, and leaves no temp file or staging folder behind', async (ctx) => {
    const mnt = join(work, 'tiny-disk');
    mkdirSync(mnt);
    const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]).status === 0;
    if (!requireTool(ctx, mounted, 'mounting a 64 KiB tmpfs (needs root) to fill a disk')) return;
    try {
      const pred = await fixturePrediction();
      const e = await rejection(exportToDirectory(pred, { dir: join(mnt, 'out'), formats: 'npz-depth_vis-conf_vis' }));
      expect(isDa3Error(e, 'IO')).toBe(true);
      expect(e.message).toMatch(/cannot write .*tiny-disk\/out\/(exports\/npz|depth_vis|conf_vis)\/[^/]+ \(ENOSPC: no space left on the device\)/);
      expect(readdirSync(join(mnt, 'out'))).toEqual([]); // nothing: no partial file, no staging folder
      // With room again, the same export works in the same folder.
      const ok = await exportToDirectory(pred, { dir: join(mnt, 'out'), formats: 'depth_vis' });
      expect(ok.map((f) => relative(join(mnt, 'out'), f))).toEqual(['depth_vis/0000.jpg', 'depth_vis/0001.jpg', 'depth_vis/0002.jpg']);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('exportToDirectory: all or nothing', () => {
  it('a multi-format export that fails half-way leaves the folder exactly as it was', async () => {
    const dir = join(work, 'all-or-nothing');
    const good = await fixturePrediction();
    await exportToDirectory(good, { dir, formats: 'depth_vis-mini_npz' });
    const before = snapshot(dir);
    expect(Object.keys(before).sort()).toEqual(['depth_vis/0000.jpg', 'depth_vis/0001.jpg', 'depth_vis/0002.jpg', 'exports/mini_npz/results.npz']);
    // Other depth (new depth_vis images would differ) and a NaN camera that the npz writer refuses after depth_vis was written.
    const extrinsics = Float32Array.from(good.extrinsics!);
    extrinsics[5] = Number.NaN;
    // Built by hand: createPrediction itself would refuse the NaN up front.
    const bad = { ...good, depth: good.depth.map((d) => d * 2), extrinsics } as typeof good;
    const e = await rejection(exportToDirectory(bad, { dir, formats: 'depth_vis-conf_vis-mini_npz' }));
    expect(isDa3Error(e)).toBe(true);
    expect(e.code).toBe('NON_FINITE');
    expect(snapshot(dir)).toEqual(before);
    expect(readdirSync(dir).sort()).toEqual(['depth_vis', 'exports']);
  });
});

describe('stale temp files of killed runs', () => {
  it('sweepStaleTemps removes temp files and staging folders whose process is gone, and nothing else', async () => {
    const dir = join(work, 'sweep');
    mkdirSync(join(dir, 'depth_vis'), { recursive: true });
    const dead = 2147483646; // no such pid
    const old = new Date(Date.now() - 60_000);
    const files = {
      deadTemp: join(dir, 'depth_vis', `0000.jpg.tmp-${dead}-0123abcd`),
      deadStaging: join(dir, `.da3-staging-${dead}-89abcdef`),
      liveTemp: tempPathFor(join(dir, 'scene.glb')), // this process: alive
      freshDead: join(dir, `fresh.tmp-${dead}-00000000`), // too recent
      userFile: join(dir, 'notes.tmp-123-keep'), // not our pattern
      result: join(dir, 'depth_vis', '0000.jpg'),
    };
    for (const [k, p] of Object.entries(files)) {
      if (k === 'deadStaging') mkdirSync(join(p, 'exports'), { recursive: true });
      else writeFileSync(p, 'x');
      if (k !== 'freshDead') utimesSync(p, old, old);
    }
    const removed = await sweepStaleTemps(dir);
    expect(removed.sort()).toEqual([files.deadTemp, files.deadStaging].sort());
    for (const k of ['liveTemp', 'freshDead', 'userFile', 'result'] as const) expect(statSync(files[k]).isFile()).toBe(true);
  });

  it('after 12 runs killed with SIGKILL mid-export, the next export sweeps every leftover and writes complete files', async () => {
    const dir = join(work, 'killed');
    const script = `
      const { createPrediction } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'packages/core/dist/index.js')).href)});
      const { exportToDirectory } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'packages/node/dist/index.js')).href)});
      const views = 2, height = 336, width = 504, n = views * height * width;
      const depth = new Float32Array(n).map((_, i) => 1 + (i % 97) / 50);
      const extrinsics = new Float32Array(views * 12);
      for (let v = 0; v < views; v++) { extrinsics[v * 12] = extrinsics[v * 12 + 5] = extrinsics[v * 12 + 10] = 1; extrinsics[v * 12 + 3] = v * 0.1; }
      const intrinsics = new Float32Array(views * 9);
      for (let v = 0; v < views; v++) intrinsics.set([300, 0, width / 2, 0, 300, height / 2, 0, 0, 1], v * 9);
      const pred = createPrediction({ views, height, width, depth, conf: new Float32Array(n).fill(2), extrinsics, intrinsics, processedImages: new Uint8Array(n * 3).map((_, i) => i % 251), sky: null });
      for (;;) {
        process.stdout.write('exporting\\n');
        await exportToDirectory(pred, { dir: ${JSON.stringify(dir)}, formats: 'glb-npz-depth_vis-conf_vis' });
      }
    `;
    const leftovers = () => {
      const found: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          if (/\.tmp-\d+-[0-9a-f]{8}$|^\.da3-staging-/.test(e.name)) found.push(relative(dir, join(d, e.name)));
          else if (e.isDirectory()) walk(join(d, e.name));
        }
      };
      walk(dir);
      return found;
    };
    // Each run is killed somewhere inside an export (one takes about 1.4 s here). Later runs sweep
    // what earlier ones left once it is 5 s old, so leftovers are counted after every kill.
    let seen = 0;
    for (let run = 0; run < 12; run++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
      await new Promise((ok) => setTimeout(ok, 150 + ((run * 211) % 1100)));
      child.kill('SIGKILL');
      await new Promise((ok) => child.once('exit', ok));
      seen = Math.max(seen, leftovers().length);
    }
    expect(seen).toBeGreaterThan(0); // killed runs do leave temp files / staging folders behind
    const left = leftovers();
    // Age them past the sweep's 5 s guard instead of sleeping.
    const old = new Date(Date.now() - 60_000);
    for (const l of left) utimesSync(join(dir, l), old, old);
    const written = await exportToDirectory(await fixturePrediction(), { dir, formats: 'mini_npz' });
    expect(leftovers()).toEqual([]);
    expect(written).toHaveLength(1);
    // Files in place are whole: the GLB's header length equals its size.
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.glb'))) {
      const glb = readFileSync(join(dir, f));
      expect(glb.readUInt32LE(8)).toBe(glb.length);
    }
  }, 120_000);
});
