// A minimal Hugging Face hub on 127.0.0.1 serving folders under repo ids, in the hub's HTTP
// layout: `GET|HEAD /<repo>/resolve/<revision>/<file>` with X-Repo-Commit, ETag (the git blob id,
// or for LFS files — .safetensors/.onnx — X-Linked-Etag = sha256 and X-Linked-Size) and byte
// ranges. Scripts use it to run the real download code offline (check-readme).
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const isLfs = (file) => /\.(safetensors|onnx|onnx_data|bin)$/.test(file);

/**
 * Serves `repos` ({ 'owner/name': folder }) until `close()`.
 * @returns {Promise<{ endpoint: string, close: () => Promise<void> }>}
 */
export async function serveLocalHub(repos) {
  const files = new Map();
  const commits = new Map();
  for (const [repo, dir] of Object.entries(repos)) {
    const names = readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile()).sort();
    const commit = createHash('sha1');
    for (const name of names) {
      const bytes = readFileSync(join(dir, name));
      const etag = isLfs(name)
        ? createHash('sha256').update(bytes).digest('hex')
        : createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes])).digest('hex');
      files.set(`${repo}/${name}`, { bytes, etag });
      commit.update(`${name}\0${etag}\n`);
    }
    commits.set(repo, commit.digest('hex'));
  }
  const server = createServer((req, res) => {
    const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const repo = m && decodeURIComponent(m[1]);
    const file = m && decodeURIComponent(m[3]);
    const entry = m && files.get(`${repo}/${file}`);
    const commit = repo && commits.get(repo);
    if (!entry || (m[2] !== 'main' && m[2] !== commit) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'x-error-code': commit ? 'EntryNotFound' : 'RepoNotFound', 'content-length': '0' });
      return res.end();
    }
    const headers = { 'x-repo-commit': commit, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (isLfs(file)) Object.assign(headers, { 'x-linked-etag': `"${entry.etag}"`, 'x-linked-size': String(entry.bytes.length), etag: `"${entry.etag}"` });
    else headers.etag = `"${entry.etag}"`;
    let body = entry.bytes;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        return res.end();
      }
      headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
      body = body.subarray(start, end + 1);
      status = 206;
    }
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
