import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isDa3Error } from '@da3js/core';
import { FIXTURES } from '../../../test-utils/fixtures.js';
import { type HubProgressEvent, fetchHubFile, isHubError, repoCache, resolveHubFile, resolveModelFiles } from '../src/hub/index.js';
import { DEFAULT_REPO, type FakeHub, startFakeHub } from './helpers/fake-hub.js';

const REPO = DEFAULT_REPO;
const TINY = join(FIXTURES, 'tiny');
const W = 'model.safetensors';
const C = 'config.json';

let hub: FakeHub;
let cacheDir: string;
const dirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'da3-hub-'));
  dirs.push(d);
  return d;
}

/** Options every call shares: the fake endpoint, a fresh cache, no back-off. */
const base = () => ({ endpoint: hub.endpoint, cacheDir, retryDelayMs: 0 });

/** Buffer equality without vitest's element-wise deep compare (slow on megabytes). */
function expectSameBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; reason?: string; url?: string; repo?: string; file?: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    return e as never;
  }
  throw new Error('expected a rejection');
}

beforeEach(async () => {
  vi.stubEnv('HF_TOKEN', '');
  vi.stubEnv('HF_HUB_OFFLINE', '');
  vi.stubEnv('HF_ENDPOINT', '');
  hub = await startFakeHub();
  cacheDir = tempDir();
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await hub.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('hub: download and cache', () => {
  it('downloads config + weights byte-identical, in the huggingface_hub layout, with progress events', async () => {
    const events: HubProgressEvent[] = [];
    const files = await resolveModelFiles(REPO, { ...base(), progress: (e) => events.push(e), progressIntervalMs: 0 });
    const commit = hub.commitOf(REPO);
    expect(files).toMatchObject({ repo: REPO, revision: 'main', commit });
    if (files.onnxPath !== undefined) throw new Error('unexpected onnx');
    expectSameBytes(readFileSync(files.configPath), readFileSync(join(TINY, C)));
    expectSameBytes(readFileSync(files.weightsPath), readFileSync(join(TINY, W)));

    // Layout: refs/main → commit, snapshots/<commit>/<file> → ../../blobs/<etag>, sha256-named LFS blob.
    const c = repoCache(cacheDir, REPO);
    expect(c.repoDir).toBe(join(cacheDir, 'models--test-org--da3-tiny'));
    expect(readFileSync(join(c.refs, 'main'), 'utf8')).toBe(commit);
    expect(files.weightsPath).toBe(join(c.snapshots, commit, W));
    expect(lstatSync(files.weightsPath).isSymbolicLink()).toBe(true);
    expect(readlinkSync(files.weightsPath)).toBe(`../../blobs/${hub.sha256(REPO, W)}`);
    expect(readdirSync(c.blobs).sort()).toHaveLength(2); // two blobs, no .incomplete / .lock left
    expect(readdirSync(c.blobs).every((f) => !f.includes('.'))).toBe(true);

    // One HEAD + one GET per file, no Range.
    expect(hub.log.map((r) => `${r.method} ${r.path.split('/').pop()} ${r.status}`)).toEqual([
      `HEAD ${C} 200`,
      `GET ${C} 200`,
      `HEAD ${W} 200`,
      `GET ${W} 200`,
    ]);
    expect(hub.log.every((r) => r.range === undefined)).toBe(true);

    for (const [file, size] of [
      [C, statSync(join(TINY, C)).size],
      [W, statSync(join(TINY, W)).size],
    ] as const) {
      const ev = events.filter((e) => e.file === file);
      expect(ev.map((e) => e.status).join(' ')).toMatch(/^initiate download (progress )+done$/);
      expect(ev.every((e) => e.name === REPO)).toBe(true);
      const progress = ev.filter((e) => e.status === 'progress') as Extract<HubProgressEvent, { status: 'progress' }>[];
      const loaded = progress.map((p) => p.loaded);
      expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
      expect(progress.at(-1)).toMatchObject({ loaded: size, total: size, progress: 100 });
      expect(progress.every((p) => p.total === size)).toBe(true);
      expect(ev.at(-1)).toMatchObject({ status: 'done', loaded: size, total: size, cached: false });
    }
    expect(events.filter((e) => e.file === W && e.status === 'progress').length).toBeGreaterThan(2);
  });

  it('serves a second call from the cache with zero requests', async () => {
    const first = await resolveModelFiles(REPO, base());
    const n = hub.log.length;
    const events: HubProgressEvent[] = [];
    const second = await resolveModelFiles(REPO, { ...base(), progress: (e) => events.push(e) });
    expect(second).toEqual(first);
    expect(hub.log.length).toBe(n);
    expect(events.map((e) => `${e.status} ${e.file}`)).toEqual([`initiate ${C}`, `done ${C}`, `initiate ${W}`, `done ${W}`]);
    expect(events[3]).toMatchObject({ cached: true, loaded: statSync(join(TINY, W)).size });
    // refresh asks again (HEAD only: the blob is there).
    const r = await fetchHubFile({ ...base(), repo: REPO, file: W, refresh: true });
    expect(r).toMatchObject({ path: first.weightsPath, cached: true });
    expect(hub.log.slice(n).map((x) => x.method)).toEqual(['HEAD']);
  });

  it('a config option replaces the repo config (not downloaded)', async () => {
    const files = await resolveModelFiles(REPO, { ...base(), config: join(TINY, C) });
    expect(files).toMatchObject({ configPath: join(TINY, C), repo: REPO });
    expect(hub.requestsFor(C)).toHaveLength(0);
  });

  it('throttles progress events', async () => {
    const events: HubProgressEvent[] = [];
    await resolveHubFile({ ...base(), repo: REPO, file: W, progress: (e) => events.push(e), progressIntervalMs: 60_000 });
    // Only the first and the final progress event pass a long interval.
    expect(events.map((e) => e.status)).toEqual(['initiate', 'download', 'progress', 'progress', 'done']);
  });

  it('follows the LFS redirect to the CDN, sending the token to the hub only', async () => {
    await hub.close();
    hub = await startFakeHub({ redirect: true, token: 'hf_secret' });
    const path = await resolveHubFile({ ...base(), repo: REPO, file: W, token: 'hf_secret' });
    expectSameBytes(readFileSync(path), readFileSync(join(TINY, W)));
    const cdn = hub.log.filter((r) => r.server === 'cdn');
    expect(cdn.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200']);
    expect(cdn[0].authorization).toBeUndefined();
    const head = hub.log.find((r) => r.server === 'hub');
    expect(head).toMatchObject({ method: 'HEAD', status: 302, authorization: 'Bearer hf_secret' });
  });

  it('uses HF_TOKEN from the environment; 401 without a token or with a wrong one', async () => {
    await hub.close();
    hub = await startFakeHub({ token: 'hf_secret' });
    const e = await rejection(resolveHubFile({ ...base(), repo: REPO, file: C }));
    expect(isHubError(e, 'UNAUTHORIZED')).toBe(true);
    expect(isDa3Error(e, 'IO')).toBe(true);
    expect(e.status).toBe(401);
    expect(e.message).toContain(`${hub.endpoint}/${REPO}/resolve/main/${C}`);
    expect(e.message).toMatch(/HF_TOKEN/);
    const wrong = await rejection(resolveHubFile({ ...base(), repo: REPO, file: C, token: 'hf_nope' }));
    expect(isHubError(wrong, 'UNAUTHORIZED')).toBe(true);
    expect(wrong.message).toMatch(/token was rejected/);

    vi.stubEnv('HF_TOKEN', 'hf_secret');
    const path = await resolveHubFile({ ...base(), repo: REPO, file: C });
    expectSameBytes(readFileSync(path), readFileSync(join(TINY, C)));
    expect(hub.log.at(-1)?.authorization).toBe('Bearer hf_secret');
  });

  it('HF_ENDPOINT selects the hub', async () => {
    vi.stubEnv('HF_ENDPOINT', hub.endpoint);
    await resolveHubFile({ cacheDir, repo: REPO, file: C });
    expect(hub.log.length).toBe(2);
  });
});

describe('hub: resume, integrity, abort', () => {
  it('an interrupted download leaves .incomplete, and the next call resumes it with a Range request', async () => {
    hub.cutAfter(W, 1_000_000);
    const e = await rejection(resolveHubFile({ ...base(), repo: REPO, file: W, retries: 0 }));
    expect(isHubError(e, 'NETWORK')).toBe(true);
    expect(e.message).toContain(`${hub.endpoint}/${REPO}/resolve/main/${W}`);
    const blob = join(repoCache(cacheDir, REPO).blobs, hub.sha256(REPO, W));
    expect(existsSync(blob)).toBe(false);
    const have = statSync(`${blob}.incomplete`).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThanOrEqual(1_000_000);

    const path = await resolveHubFile({ ...base(), repo: REPO, file: W });
    expectSameBytes(readFileSync(path), readFileSync(join(TINY, W)));
    const gets = hub.requestsFor(W, 'GET');
    expect(gets).toHaveLength(2);
    expect(gets[1]).toMatchObject({ range: `bytes=${have}-`, status: 206 });
    expect(existsSync(`${blob}.incomplete`)).toBe(false);
  });

  it('resumes within one call after a dropped connection (retries)', async () => {
    hub.cutAfter(W, 700_000, 2);
    const path = await resolveHubFile({ ...base(), repo: REPO, file: W });
    expectSameBytes(readFileSync(path), readFileSync(join(TINY, W)));
    const gets = hub.requestsFor(W, 'GET');
    expect(gets).toHaveLength(3);
    expect(gets[0].range).toBeUndefined();
    expect(gets[1].range).toMatch(/^bytes=\d+-$/);
    expect(gets[2].range).toMatch(/^bytes=\d+-$/);
    expect(gets.slice(1).every((g) => g.status === 206)).toBe(true);
  });

  it('restarts from zero when the server ignores the Range (200) or cannot satisfy it (416)', async () => {
    const blob = join(repoCache(cacheDir, REPO).blobs, hub.sha256(REPO, W));
    const bytes = hub.bytes(REPO, W);
    await resolveHubFile({ ...base(), repo: REPO, file: C }); // creates the blobs folder
    // 200 to a Range request: the partial file is overwritten from byte 0.
    hub.options.ignoreRange = true;
    writeFileSync(`${blob}.incomplete`, Buffer.alloc(1000, 7));
    expectSameBytes(readFileSync(await resolveHubFile({ ...base(), repo: REPO, file: W })), bytes);
    expect(hub.requestsFor(W, 'GET').map((g) => `${g.status} ${g.range}`)).toEqual(['200 bytes=1000-']);
    hub.options.ignoreRange = false;
    // 416 (a partial as long as the file, but wrong): deleted, downloaded again without Range.
    rmSync(cacheDir, { recursive: true });
    await resolveHubFile({ ...base(), repo: REPO, file: C });
    writeFileSync(`${blob}.incomplete`, Buffer.alloc(bytes.length, 7));
    expectSameBytes(readFileSync(await resolveHubFile({ ...base(), repo: REPO, file: W })), bytes);
    expect(hub.requestsFor(W, 'GET').slice(1).map((g) => `${g.status} ${g.range}`)).toEqual([`416 bytes=${bytes.length}-`, '200 undefined']);
    // A partial longer than the announced size is dropped before asking: no Range sent.
    rmSync(cacheDir, { recursive: true });
    await resolveHubFile({ ...base(), repo: REPO, file: C });
    writeFileSync(`${blob}.incomplete`, Buffer.concat([bytes, Buffer.alloc(10)]));
    expectSameBytes(readFileSync(await resolveHubFile({ ...base(), repo: REPO, file: W })), bytes);
    expect(hub.requestsFor(W, 'GET').at(-1)?.range).toBeUndefined();
  });

  it('a corrupt download (sha256 ≠ X-Linked-Etag) is discarded and fetched again', async () => {
    hub.corruptNext(W);
    const path = await resolveHubFile({ ...base(), repo: REPO, file: W });
    expectSameBytes(readFileSync(path), readFileSync(join(TINY, W)));
    expect(hub.requestsFor(W, 'GET').map((g) => `${g.status} ${g.range}`)).toEqual(['200 undefined', '200 undefined']);
  });

  it('corrupt twice → INTEGRITY error, nothing cached', async () => {
    hub.corruptNext(W, 2);
    const e = await rejection(resolveHubFile({ ...base(), repo: REPO, file: W }));
    expect(isHubError(e, 'INTEGRITY')).toBe(true);
    expect(e.message).toMatch(/sha256/);
    const c = repoCache(cacheDir, REPO);
    expect(readdirSync(c.blobs)).toEqual([]);
    expect(existsSync(join(c.snapshots, hub.commitOf(REPO), W))).toBe(false);
  });

  it('verify: a corrupt cached blob is deleted and downloaded again', async () => {
    const path = await resolveHubFile({ ...base(), repo: REPO, file: W });
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[12345] ^= 1;
    writeFileSync(path, bad); // through the symlink: the blob itself
    const n = hub.log.length;
    expect(await resolveHubFile({ ...base(), repo: REPO, file: W, verify: true })).toBe(path);
    expectSameBytes(readFileSync(path), good);
    expect(hub.log.slice(n).map((r) => r.method)).toEqual(['HEAD', 'GET']);
    // offline + corrupt → INTEGRITY, the bad blob is gone
    writeFileSync(path, bad);
    const e = await rejection(resolveHubFile({ ...base(), repo: REPO, file: W, verify: true, localFilesOnly: true }));
    expect(isHubError(e, 'INTEGRITY')).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('AbortSignal cancels; no partial bytes at the blob or snapshot path; the next call resumes', async () => {
    const ac = new AbortController();
    const c = repoCache(cacheDir, REPO);
    const blob = join(c.blobs, hub.sha256(REPO, W));
    const p = resolveHubFile({
      ...base(),
      repo: REPO,
      file: W,
      signal: ac.signal,
      progressIntervalMs: 0,
      progress: (e) => {
        if (e.status === 'progress' && e.loaded > 200_000) ac.abort(new Error('user cancelled'));
      },
    });
    const e = await rejection(p);
    expect(isHubError(e, 'ABORTED')).toBe(true);
    expect(isDa3Error(e, 'ABORTED')).toBe(true);
    expect(existsSync(blob)).toBe(false);
    expect(existsSync(`${blob}.lock`)).toBe(false);
    expect(existsSync(join(c.snapshots, hub.commitOf(REPO), W))).toBe(false);
    expect(existsSync(join(c.refs, 'main'))).toBe(false);
    const have = statSync(`${blob}.incomplete`).size;
    expect(have).toBeGreaterThan(200_000);
    expect(have).toBeLessThan(hub.bytes(REPO, W).length);

    // An already-aborted signal fails before any request.
    const n = hub.log.length;
    expect(isHubError(await rejection(resolveHubFile({ ...base(), repo: REPO, file: W, signal: AbortSignal.abort() })), 'ABORTED')).toBe(true);
    expect(hub.log.length).toBe(n);

    const path = await resolveHubFile({ ...base(), repo: REPO, file: W });
    expectSameBytes(readFileSync(path), hub.bytes(REPO, W));
    expect(hub.requestsFor(W, 'GET').at(-1)).toMatchObject({ range: `bytes=${have}-`, status: 206 });
  });

  it('concurrent calls for one file download it once', async () => {
    const [a, b] = await Promise.all([resolveHubFile({ ...base(), repo: REPO, file: W }), resolveHubFile({ ...base(), repo: REPO, file: W })]);
    expect(a).toBe(b);
    expect(hub.requestsFor(W, 'GET')).toHaveLength(1);
    expectSameBytes(readFileSync(a), hub.bytes(REPO, W));
  });
});

describe('hub: errors and offline', () => {
  it('404s name the repo, the file or the revision', async () => {
    const repo = await rejection(resolveModelFiles('test-org/nope', base()));
    expect(isHubError(repo, 'REPO_NOT_FOUND')).toBe(true);
    expect(repo).toMatchObject({ code: 'IO', status: 404, repo: 'test-org/nope', url: `${hub.endpoint}/test-org/nope/resolve/main/${C}` });
    expect(repo.message).toContain('"test-org/nope"');
    expect(repo.message).toContain(`${hub.endpoint}/test-org/nope/resolve/main/${C}`);

    const file = await rejection(resolveModelFiles(REPO, { ...base(), weightsFile: 'weights/missing.safetensors' }));
    expect(isHubError(file, 'FILE_NOT_FOUND')).toBe(true);
    expect(file.message).toContain('"weights/missing.safetensors"');
    expect(file.message).toContain(`"${REPO}"`);

    const rev = await rejection(resolveHubFile({ ...base(), repo: REPO, file: C, revision: 'v9' }));
    expect(isHubError(rev, 'REVISION_NOT_FOUND')).toBe(true);
    expect(rev.message).toContain('"v9"');
    // Nothing half-made in the cache.
    expect(existsSync(repoCache(cacheDir, 'test-org/nope').repoDir)).toBe(false);
  });

  it('network errors → NETWORK with the URL', async () => {
    const s = createServer();
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', () => ok()));
    const port = (s.address() as AddressInfo).port;
    await new Promise((ok) => s.close(ok));
    const e = await rejection(resolveHubFile({ ...base(), endpoint: `http://127.0.0.1:${port}`, repo: REPO, file: C, retries: 1 }));
    expect(isHubError(e, 'NETWORK')).toBe(true);
    expect(e.message).toContain(`http://127.0.0.1:${port}/${REPO}/resolve/main/${C}`);
  });

  it('rejects malformed ids with BAD_VALUE', async () => {
    for (const [repo, file, revision] of [
      ['a/b/c', C, 'main'],
      ['a--b/c', C, 'main'],
      [REPO, '../x', 'main'],
      [REPO, '/abs', 'main'],
      [REPO, C, '..'],
    ]) {
      const e = await rejection(resolveHubFile({ ...base(), repo, file, revision }));
      expect(isHubError(e, 'BAD_ID')).toBe(true);
      expect(isDa3Error(e, 'BAD_VALUE')).toBe(true);
    }
    const e = await rejection(resolveHubFile({ ...base(), endpoint: 'huggingface.co', repo: REPO, file: C }));
    expect(isHubError(e, 'BAD_ID')).toBe(true);
    expect(e.message).toMatch(/HF_ENDPOINT/);
    expect(hub.log).toHaveLength(0);
  });

  it('localFilesOnly: NOT_CACHED on an empty cache (no request); the cache after one download, by branch or commit', async () => {
    const e = await rejection(resolveModelFiles(REPO, { ...base(), localFilesOnly: true }));
    expect(isHubError(e, 'NOT_CACHED')).toBe(true);
    expect(e.message).toContain(cacheDir);
    expect(e.message).toContain(REPO);
    vi.stubEnv('HF_HUB_OFFLINE', '1');
    expect(isHubError(await rejection(resolveModelFiles(REPO, base())), 'NOT_CACHED')).toBe(true);
    vi.stubEnv('HF_HUB_OFFLINE', '');
    expect(hub.log).toHaveLength(0);

    const online = await resolveModelFiles(REPO, base());
    const n = hub.log.length;
    await hub.close(); // offline for real
    expect(await resolveModelFiles(REPO, { ...base(), localFilesOnly: true })).toEqual(online);
    expect(await resolveModelFiles(REPO, { ...base(), localFilesOnly: true, revision: online.commit })).toMatchObject({ weightsPath: online.weightsPath });
    expect(isHubError(await rejection(resolveModelFiles(REPO, { ...base(), localFilesOnly: true, revision: 'dev' })), 'NOT_CACHED')).toBe(true);
    expect(hub.log.length).toBe(n);
    hub = await startFakeHub(); // for afterEach
  });

  it('a mirror without X-Repo-Commit caches under the revision name', async () => {
    await hub.close();
    hub = await startFakeHub({ noCommitHeader: true });
    const path = await resolveHubFile({ ...base(), repo: REPO, file: C });
    expect(path).toBe(join(repoCache(cacheDir, REPO).snapshots, 'main', C));
    expect(await resolveHubFile({ ...base(), repo: REPO, file: C, localFilesOnly: true })).toBe(path);
  });
});

describe('resolveModelFiles: local paths', () => {
  it('a folder → its config.json + model.safetensors', async () => {
    expect(await resolveModelFiles(TINY)).toEqual({ configPath: join(TINY, C), weightsPath: join(TINY, W) });
  });

  it('a .safetensors file → config.json beside it, or the config option', async () => {
    expect(await resolveModelFiles(join(TINY, W))).toEqual({ configPath: join(TINY, C), weightsPath: join(TINY, W) });
    const d = tempDir();
    const weights = join(d, 'w.safetensors');
    writeFileSync(weights, 'x');
    const e = await rejection(resolveModelFiles(weights));
    expect(isHubError(e, 'LOCAL_MISSING')).toBe(true);
    expect(e.message).toMatch(/config option/);
    expect(await resolveModelFiles(weights, { config: join(TINY, C) })).toEqual({ configPath: join(TINY, C), weightsPath: weights });
  });

  it('.onnx passes through; a folder with only model.onnx too', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'model.onnx'), 'x');
    expect(await resolveModelFiles(join(d, 'model.onnx'))).toEqual({ onnxPath: join(d, 'model.onnx') });
    expect(await resolveModelFiles(d)).toEqual({ onnxPath: join(d, 'model.onnx') });
  });

  it('missing paths and non-ids are typed errors, never hub requests', async () => {
    expect(isHubError(await rejection(resolveModelFiles('./nope/model.safetensors', base())), 'LOCAL_MISSING')).toBe(true);
    expect(isHubError(await rejection(resolveModelFiles('/does/not/exist', base())), 'LOCAL_MISSING')).toBe(true);
    expect(isHubError(await rejection(resolveModelFiles(tempDir(), base())), 'LOCAL_MISSING')).toBe(true);
    expect(isHubError(await rejection(resolveModelFiles('a b/c', base())), 'BAD_ID')).toBe(true);
    expect(hub.log).toHaveLength(0);
  });
});
