import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, loadTensors } from '../../../test-utils/fixtures.js';
import { defaultHubCacheDir } from '../src/hub/index.js';
import { startFakeHub } from './helpers/fake-hub.js';

/**
 * The model cache is huggingface_hub's: `HF_HUB_CACHE` (else `$HF_HOME/hub`) is used as is, in its
 * layout, so Python and da3js share one download. `DA3_CACHE` overrides both.
 */
/** Runs a command without blocking the event loop (the fake hub answers from this process). */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (status) => ok({ status, stderr }));
  });
}

const work = mkdtempSync(join(tmpdir(), 'da3js-hfenv-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('hub cache location from the environment', () => {
  it('DA3_CACHE, then HF_HUB_CACHE, then HF_HOME/hub, then ~/.cache/da3js', () => {
    expect(defaultHubCacheDir({ DA3_CACHE: '/a', HF_HUB_CACHE: '/b', HF_HOME: '/c' })).toBe(resolve('/a'));
    expect(defaultHubCacheDir({ HF_HUB_CACHE: '/b', HF_HOME: '/c' })).toBe(resolve('/b'));
    expect(defaultHubCacheDir({ HF_HOME: '/c' })).toBe(resolve('/c/hub'));
    expect(defaultHubCacheDir({ HOME: '/h' })).toMatch(/\.cache[/\\]da3js$/);
  });

  it('the CLI downloads into $HF_HOME/hub in the huggingface_hub layout, then runs offline from it', async () => {
    const hub = await startFakeHub({ repos: { 'depth-anything/DA3-TINY': { dir: join(FIXTURES, 'tiny'), files: ['config.json', 'model.safetensors'] } } });
    const u8 = (await loadTensors('tiny/multi/inputs.safetensors')).image_u8;
    const [, H, W] = u8.shape;
    const image = join(work, 'view.png');
    await sharp(Buffer.from((u8.data as Uint8Array).subarray(0, H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toFile(image);
    const hfHome = join(work, 'hf-home');
    const env = { ...process.env, HOME: join(work, 'home'), HF_HOME: hfHome, HF_ENDPOINT: hub.endpoint, DA3_CACHE: '', HF_HUB_CACHE: '', HF_HUB_OFFLINE: '' };
    delete (env as Record<string, string | undefined>).DA3_CACHE;
    delete (env as Record<string, string | undefined>).HF_HUB_CACHE;
    const bin = join(REPO_ROOT, 'packages/node/bin/da3.js');
    const args = ['image', image, '--model-dir', 'depth-anything/DA3-TINY', '--process-res', '84', '--export-format', 'mini_npz', '--json'];
    let commit: string;
    try {
      const r = await run([bin, ...args, '--export-dir', join(work, 'out1')], env);
      expect(r.status, r.stderr).toBe(0);
      commit = hub.commitOf('depth-anything/DA3-TINY');
    } finally {
      await hub.close();
    }
    const repo = join(hfHome, 'hub', 'models--depth-anything--DA3-TINY');
    expect(readFileSync(join(repo, 'refs', 'main'), 'utf8').trim()).toBe(commit);
    const snap = join(repo, 'snapshots', commit, 'model.safetensors');
    expect(lstatSync(snap).isSymbolicLink()).toBe(true);
    expect(readlinkSync(snap)).toBe(`../../blobs/${hub.sha256('depth-anything/DA3-TINY', 'model.safetensors')}`);
    expect(existsSync(join(repo, 'snapshots', commit, 'config.json'))).toBe(true);
    // The hub is gone: HF_HUB_OFFLINE runs from the shared cache (as huggingface_hub would).
    const offline = await run([bin, ...args, '--export-dir', join(work, 'out2')], { ...env, HF_HUB_OFFLINE: '1' });
    expect(offline.status, offline.stderr).toBe(0);
    expect(existsSync(join(work, 'out2', 'exports', 'mini_npz', 'results.npz'))).toBe(true);
  }, 60_000);
});
