import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/fixtures.js';

describe('npm run demo (core self-check)', () => {
  it('recovers the synthetic camera from its ray map and exits 0', () => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'packages/core/scripts/self-check.mjs')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/rotation error [0-9.]+e-\d+ rad/);
    expect(r.stdout.trim().endsWith('OK')).toBe(true);
  });
});
