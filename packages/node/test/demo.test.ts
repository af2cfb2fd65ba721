import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-utils/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'da3js-demo-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm run demo (scripts/demo.mjs)', () => {
  it('offline: says so in one line and reconstructs the example scene with the bundled tiny model', () => {
    const env = { ...process.env, HF_ENDPOINT: 'http://127.0.0.1:9', DA3_DEMO_OUT: join(work, 'out'), DA3_DEMO_TINY: join(work, 'tiny'), DA3_CACHE: join(work, 'cache') };
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/demo.mjs')], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^demo: the Hugging Face hub \(http:\/\/127\.0\.0\.1:9\) is not reachable; running the bundled tiny test model/);
    expect(lines[1]).toMatch(/^demo: 4 views at 504×378 on cpu/);
    expect(existsSync(join(work, 'out', 'exports', 'mini_npz', 'results.npz'))).toBe(true);
    expect(readdirSync(join(work, 'out', 'depth_vis'))).toHaveLength(4);
  });
});
