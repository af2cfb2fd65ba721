/**
 * The hub client against a hostile or broken mirror (HF_ENDPOINT is untrusted input): header values
 * never become paths outside the cache, poisoned cache entries are not followed, stalled servers
 * time out, and two processes never hold one download lock.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FIXTURES } from '../../../test-utils/fixtures.js';
import { acquireLock } from '../src/hub/http.js';
import { fetchHubFile, repoCache, resolveModelFiles } from '../src/hub/index.js';
import { DEFAULT_REPO, type FakeHub, startFakeHub } from './helpers/fake-hub.js';

const REPO = DEFAULT_REPO;
const C = 'config.json';
const W = 'model.safetensors';

let work: string;
let cacheDir: string;
const hubs: FakeHub[] = [];

async function hub(options: Parameters<typeof startFakeHub>[0] = {}): Promise<FakeHub> {
  const h = await startFakeHub(options);
  hubs.push(h);
  return h;
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; reason?: string }> {
  try {
    await p;
  } catch (e) {
    return e as never;
  }
  throw new Error('expected a rejection');
}

/** Every path under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(prefix + e.name);
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
    }
  };
  walk(dir, '');
  return out.sort();
}

beforeEach(() => {
  vi.stubEnv('HF_TOKEN', '');
  vi.stubEnv('HF_HUB_OFFLINE', '');
  vi.stubEnv('HF_HUB_ETAG_TIMEOUT', '');
  vi.stubEnv('HF_HUB_DOWNLOAD_TIMEOUT', '');
  work = mkdtempSync(join(tmpdir(), 'da3-hostile-'));
  cacheDir = join(work, 'cache', 'hub');
});

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const h of hubs.splice(0)) await h.close();
  rmSync(work, { recursive: true, force: true });
});

describe('hub: a response header never becomes a path', () => {
  for (const commit of ['../../../../escape', 'x/../../../../escape', `${'a'.repeat(40)}/../../..`, 'A'.repeat(40), 'a'.repeat(41), '', ' ']) {
    it(`X-Repo-Commit ${JSON.stringify(commit)} is refused; nothing is written outside the cache`, async () => {
      const h = await hub({ commitHeader: commit });
      // An empty/blank header is "no header" (the revision names the snapshot), like huggingface_hub.
      if (commit.trim() === '') {
        const files = await resolveModelFiles(REPO, { endpoint: h.endpoint, cacheDir, retryDelayMs: 0 });
        expect(files.configPath).toBe(join(repoCache(cacheDir, REPO).snapshots, 'main', C));
        return;
      }
      const e = await rejection(resolveModelFiles(REPO, { endpoint: h.endpoint, cacheDir, retryDelayMs: 0 }));
      expect(e).toMatchObject({ code: 'IO', reason: 'BAD_RESPONSE' });
      expect(e.message).toContain('not a commit hash');
      // Only the cache folder exists in the work dir, and it holds no ref, snapshot or blob.
      expect(readdirSync(work).filter((n) => n !== 'cache')).toEqual([]);
      expect(existsSync(join(cacheDir, '..', 'escape'))).toBe(false);
      const left = existsSync(cacheDir) ? tree(cacheDir) : [];
      expect(left.filter((p) => /refs\/|snapshots\/|blobs\//.test(p))).toEqual([]);
    });
  }

  it('a poisoned refs/ entry (not a commit hash) is ignored offline instead of followed', async () => {
    const outside = join(work, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, C), '{"planted": true}');
    const c = repoCache(cacheDir, REPO);
    mkdirSync(c.refs, { recursive: true });
    mkdirSync(c.snapshots, { recursive: true });
    writeFileSync(join(c.refs, 'main'), '../../../../outside');
    const e = await rejection(fetchHubFile({ repo: REPO, file: C, cacheDir, localFilesOnly: true }));
    expect(e).toMatchObject({ code: 'IO', reason: 'NOT_CACHED' });
  });

  it('a snapshot entry that links outside the cache is refused (UNSAFE_PATH), online or offline', async () => {
    const outside = join(work, 'outside.json');
    writeFileSync(outside, '{"planted": true}');
    const c = repoCache(cacheDir, REPO);
    const commit = 'b'.repeat(40);
    mkdirSync(join(c.snapshots, commit), { recursive: true });
    mkdirSync(c.refs, { recursive: true });
    writeFileSync(join(c.refs, 'main'), commit);
    symlinkSync(outside, join(c.snapshots, commit, C));
    const e = await rejection(fetchHubFile({ repo: REPO, file: C, cacheDir, localFilesOnly: true }));
    expect(e).toMatchObject({ code: 'IO', reason: 'UNSAFE_PATH' });
    expect(e.message).toContain(outside);
  });

  it('a valid hub still works after a refused answer (nothing half-written blocks it)', async () => {
    const bad = await hub({ commitHeader: '../evil' });
    await rejection(resolveModelFiles(REPO, { endpoint: bad.endpoint, cacheDir, retryDelayMs: 0 }));
    const good = await hub();
    const files = await resolveModelFiles(REPO, { endpoint: good.endpoint, cacheDir, retryDelayMs: 0 });
    expect(readFileSync(files.configPath)).toEqual(readFileSync(join(FIXTURES, 'tiny', C)));
  });
});

describe('hub: filesystem failures are typed', () => {
  it('a cache folder through a file is IO / FILESYSTEM, not a raw ENOTDIR', async () => {
    const h = await hub();
    writeFileSync(join(work, 'file'), 'x');
    const e = await rejection(fetchHubFile({ repo: REPO, file: C, endpoint: h.endpoint, cacheDir: join(work, 'file', 'cache'), retryDelayMs: 0 }));
    expect(e).toMatchObject({ code: 'IO', reason: 'FILESYSTEM' });
    expect(e.message).toMatch(/ENOTDIR/);
  });
});

describe('hub: timeouts', () => {
  it('a server that never answers the metadata request fails with TIMEOUT after the retries, quickly', async () => {
    const h = await hub();
    h.stallHeaders(C, 10);
    const t0 = Date.now();
    const e = await rejection(fetchHubFile({ repo: REPO, file: C, endpoint: h.endpoint, cacheDir, retries: 1, retryDelayMs: 0, etagTimeoutMs: 150 }));
    expect(e).toMatchObject({ code: 'IO', reason: 'TIMEOUT' });
    expect(e.message).toMatch(/timed out.*HF_HUB_ETAG_TIMEOUT/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(h.requestsFor(C, 'HEAD')).toHaveLength(2); // one try + one retry
  });

  it('HF_HUB_ETAG_TIMEOUT (seconds) is honoured', async () => {
    const h = await hub();
    h.stallHeaders(C, 10);
    vi.stubEnv('HF_HUB_ETAG_TIMEOUT', '0.15');
    const t0 = Date.now();
    const e = await rejection(fetchHubFile({ repo: REPO, file: C, endpoint: h.endpoint, cacheDir, retries: 0 }));
    expect(e).toMatchObject({ reason: 'TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a download that stalls mid-body times out and resumes with a Range request (HF_HUB_DOWNLOAD_TIMEOUT)', async () => {
    const h = await hub();
    h.stallAfter(W, 100_000);
    vi.stubEnv('HF_HUB_DOWNLOAD_TIMEOUT', '0.3');
    const t0 = Date.now();
    const r = await fetchHubFile({ repo: REPO, file: W, endpoint: h.endpoint, cacheDir, retryDelayMs: 0 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readFileSync(r.path).equals(h.bytes(REPO, W))).toBe(true);
    const gets = h.requestsFor(W, 'GET');
    expect(gets).toHaveLength(2);
    expect(gets[1].range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('a download whose answer never comes fails with TIMEOUT and leaves no lock behind', async () => {
    const h = await hub();
    h.stallHeaders(W, 10, 'GET');
    const t0 = Date.now();
    const e = await rejection(fetchHubFile({ repo: REPO, file: W, endpoint: h.endpoint, cacheDir, retries: 1, retryDelayMs: 0, downloadTimeoutMs: 150 }));
    expect(e).toMatchObject({ code: 'IO', reason: 'TIMEOUT' });
    expect(e.message).toContain('no response within 0.15 s');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(h.requestsFor(W, 'GET')).toHaveLength(2);
    const blobs = readdirSync(repoCache(cacheDir, REPO).blobs);
    expect(blobs.filter((b) => !b.endsWith('.incomplete'))).toEqual([]);
  });
});

describe('hub: the download lock', () => {
  it('two waiters that both find a stale lock never both hold it (atomic takeover)', async () => {
    const dir = join(work, 'locks');
    mkdirSync(dir);
    const lockPath = join(dir, 'blob.lock');
    const ctx = { repo: REPO, file: W, revision: 'main', endpoint: 'http://127.0.0.1:1' };
    for (let round = 0; round < 5; round++) {
      // A lock left by a process that stopped heartbeating a minute ago.
      writeFileSync(lockPath, `${hostname()}-elsewhere\n1\nold\n`);
      const old = new Date(Date.now() - 60_000);
      utimesSync(lockPath, old, old);
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          const lock = await acquireLock(lockPath, ctx);
          inside++;
          most = Math.max(most, inside);
          expect(await lock.held()).toBe(true);
          await new Promise((ok) => setTimeout(ok, 15));
          inside--;
          await lock.release();
        }),
      );
      expect(most).toBe(1);
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('a lock of a dead process on this host is taken over at once', async () => {
    const dir = join(work, 'locks');
    mkdirSync(dir);
    const lockPath = join(dir, 'blob.lock');
    writeFileSync(lockPath, `${hostname()}\n2147483646\nx\n`); // no such pid
    const t0 = Date.now();
    const lock = await acquireLock(lockPath, { repo: REPO, file: W, revision: 'main', endpoint: 'http://127.0.0.1:1' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(readFileSync(lockPath, 'utf8')).toContain(`${hostname()}\n${process.pid}\n`);
    await lock.release();
    expect(existsSync(lockPath)).toBe(false);
  });
});
