/**
 * Seeded, deterministic input generation for the fuzzer: a small PRNG (xoshiro128**, seeded
 * through splitmix32 from `(seed, iteration)`), byte-level mutators in the spirit of AFL's havoc
 * stage, and token-level mutators for text formats.
 *
 * Every input is a pure function of `(seeds, seed, iteration, options)`: a finding is replayed by
 * regenerating its iteration, no corpus state is carried between inputs.
 */

/** A 32-bit finaliser (murmur3's fmix32). */
function mix32(x) {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A xoshiro128** generator whose state is expanded (splitmix32) from `seed` and `iteration`, so
 * any iteration can be regenerated on its own.
 */
export function createRng(seed, iteration = 0) {
  let st = mix32(mix32(seed >>> 0) ^ (iteration >>> 0)) ^ mix32(Math.floor(iteration / 2 ** 32) + 0x632be5ab);
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    st = (st + 0x9e3779b9) | 0;
    s[i] = mix32(st);
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  const rotl = (x, k) => (x << k) | (x >>> (32 - k));
  const u32 = () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
  const rng = {
    u32,
    /** Uniform float in [0, 1). */
    float: () => u32() / 2 ** 32,
    /** Uniform integer in [0, n) for n ≤ 2^53. */
    below: (n) => (n <= 0 ? 0 : n <= 2 ** 32 ? Math.floor((u32() / 2 ** 32) * n) : Math.floor(((u32() * 2 ** 21 + (u32() >>> 11)) / 2 ** 53) * n)),
    chance: (p) => u32() / 2 ** 32 < p,
    pick: (arr) => arr[rng.below(arr.length)],
  };
  return rng;
}

const INTERESTING_8 = [0, 0xff, 0x7f, 0x80, 1, 0x20, 0x0a, 0x0d, 0x30, 0x39, 0x2d, 0x2e];
const INTERESTING_16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0xfffe];
const INTERESTING_32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x3fffffff, 0x7ffffffe, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const INTERESTING_64 = [0n, 1n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];

/** Number spellings that stress numeric fields of text formats. */
export const INTERESTING_NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '2',
  '7',
  '255',
  '256',
  '65535',
  '65536',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '9007199254740991',
  '9007199254740993',
  '18446744073709551615',
  '99999999999999999999999',
  '1e308',
  '1e309',
  '-1e309',
  '1e-400',
  '0.5',
  '-0.5',
  '1.0',
  '1e3',
  '0x10',
  '.5',
  '5.',
  'NaN',
  'nan',
  'Infinity',
  '-Infinity',
  'inf',
  '.inf',
  '-.inf',
  '.nan',
  '00',
  '+1',
  '1_000',
  '',
];

/** Tokens that are special to YAML/JSON parsers. */
const TEXT_SPECIALS = [
  'null',
  '~',
  'true',
  'false',
  '[]',
  '{}',
  '""',
  "''",
  '"',
  "'",
  ',',
  ':',
  ': ',
  '- ',
  '&a ',
  '*a',
  '<<: *a',
  '!!binary ',
  '!!str ',
  '!!int ',
  '!!float ',
  '!!map ',
  '? ',
  '|',
  '>',
  '#',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '\t',
  '\n',
  '\r\n',
  '\\u0000',
  '\u0000',
  '\ufeff',
  '__proto__',
  'constructor',
  '"__proto__": ',
  'kind',
  'backbone',
  'resolved',
  'model_name',
  '__object__',
];

/** Picks a position, biased towards the last `tail` bytes when the options ask for it. */
function pos(rng, len, opts, extra = 0) {
  const n = len + extra;
  if (n <= 0) return 0;
  if (opts.tail && len > opts.tail && rng.chance(0.85)) return len - opts.tail + rng.below(opts.tail + extra);
  return rng.below(n);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function writeInt(buf, at, value, bytes, bigEndian) {
  let v = BigInt.asUintN(bytes * 8, BigInt(value));
  for (let i = 0; i < bytes; i++) {
    buf[at + (bigEndian ? bytes - 1 - i : i)] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function leb128(value) {
  const out = [];
  let v = BigInt(value);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Uint8Array.from(out);
}

function chunkLen(rng, len) {
  // Mostly small chunks, sometimes up to the whole input.
  const r = rng.float();
  if (r < 0.6) return 1 + rng.below(8);
  if (r < 0.9) return 1 + rng.below(128);
  return 1 + rng.below(Math.max(1, len));
}

const enc = new TextEncoder();

/** Byte-level mutators: each takes (rng, bytes, ctx) and returns new bytes (or mutates in place). */
const BYTE_MUTATORS = [
  ['bitflip', 6, (rng, b, ctx) => {
    if (!b.length) return b;
    const at = pos(rng, b.length, ctx);
    b[at] ^= 1 << rng.below(8);
    return b;
  }],
  ['byte-interesting', 4, (rng, b, ctx) => {
    if (!b.length) return b;
    b[pos(rng, b.length, ctx)] = rng.pick(INTERESTING_8);
    return b;
  }],
  ['byte-random', 3, (rng, b, ctx) => {
    if (!b.length) return b;
    b[pos(rng, b.length, ctx)] = rng.below(256);
    return b;
  }],
  ['byte-arith', 3, (rng, b, ctx) => {
    if (!b.length) return b;
    const at = pos(rng, b.length, ctx);
    b[at] = (b[at] + (rng.chance(0.5) ? 1 : -1) * (1 + rng.below(35))) & 0xff;
    return b;
  }],
  ['u16-interesting', 2, (rng, b, ctx) => {
    if (b.length < 2) return b;
    writeInt(b, Math.min(pos(rng, b.length, ctx), b.length - 2), rng.pick(INTERESTING_16), 2, rng.chance(0.3));
    return b;
  }],
  ['u32-interesting', 4, (rng, b, ctx) => {
    if (b.length < 4) return b;
    const at = rng.chance(0.5) ? Math.min(pos(rng, b.length, ctx), b.length - 4) & ~3 : Math.min(pos(rng, b.length, ctx), b.length - 4);
    writeInt(b, at, rng.pick(INTERESTING_32), 4, rng.chance(0.3));
    return b;
  }],
  ['u64-interesting', 3, (rng, b, ctx) => {
    if (b.length < 8) return b;
    const at = rng.chance(0.5) ? Math.min(pos(rng, b.length, ctx), b.length - 8) & ~7 : Math.min(pos(rng, b.length, ctx), b.length - 8);
    writeInt(b, at, rng.pick(INTERESTING_64), 8, rng.chance(0.3));
    return b;
  }],
  ['varint', 1, (rng, b, ctx) => {
    const at = pos(rng, b.length, ctx);
    const v = leb128(rng.pick(INTERESTING_64));
    return rng.chance(0.5) ? concat(b.subarray(0, at), v, b.subarray(at)) : concat(b.subarray(0, at), v, b.subarray(Math.min(b.length, at + v.length)));
  }],
  ['insert-random', 2, (rng, b, ctx) => {
    const at = pos(rng, b.length, ctx, 1);
    const chunk = new Uint8Array(chunkLen(rng, 64));
    for (let i = 0; i < chunk.length; i++) chunk[i] = rng.below(256);
    return concat(b.subarray(0, at), chunk, b.subarray(at));
  }],
  ['delete', 3, (rng, b, ctx) => {
    if (!b.length) return b;
    const at = pos(rng, b.length, ctx);
    const n = Math.min(chunkLen(rng, b.length), b.length - at);
    return concat(b.subarray(0, at), b.subarray(at + n));
  }],
  ['duplicate', 2, (rng, b, ctx) => {
    if (!b.length) return b;
    const from = rng.below(b.length);
    const n = Math.min(chunkLen(rng, b.length), b.length - from);
    const at = pos(rng, b.length, ctx, 1);
    return concat(b.subarray(0, at), b.slice(from, from + n), b.subarray(at));
  }],
  ['copy-over', 2, (rng, b, ctx) => {
    if (b.length < 2) return b;
    const from = rng.below(b.length);
    const n = Math.min(chunkLen(rng, b.length), b.length - from);
    const at = pos(rng, b.length, ctx);
    b.set(b.slice(from, from + Math.min(n, b.length - at)), at);
    return b;
  }],
  ['repeat-chunk', 1, (rng, b, ctx) => {
    // A chunk repeated many times: long lines, deep nesting, huge counts of records.
    if (!b.length) return b;
    const from = rng.below(b.length);
    const n = Math.min(1 + rng.below(16), b.length - from);
    const times = 16 + rng.below(rng.chance(0.2) ? 8192 : 512);
    const chunk = b.slice(from, from + n);
    const big = new Uint8Array(Math.min(n * times, ctx.maxLen));
    for (let i = 0; i < big.length; i += n) big.set(chunk.subarray(0, Math.min(n, big.length - i)), i);
    const at = pos(rng, b.length, ctx, 1);
    return concat(b.subarray(0, at), big, b.subarray(at));
  }],
  ['truncate', 3, (rng, b, ctx) => {
    if (!b.length) return b;
    return b.slice(0, pos(rng, b.length, ctx));
  }],
  ['splice', 2, (rng, b, ctx) => {
    const other = rng.pick(ctx.seeds);
    if (!other.length || !b.length) return b;
    const cut = rng.below(b.length);
    const from = rng.below(other.length);
    return concat(b.subarray(0, cut), other.subarray(from));
  }],
  ['ascii-number', 3, (rng, b, ctx) => {
    // Replace a run of ASCII digits (a count in a header, a shape, a text value) by a nasty number.
    if (!b.length) return b;
    let at = pos(rng, b.length, ctx);
    let tries = 0;
    while (!(b[at] >= 0x30 && b[at] <= 0x39) && tries++ < 64) at = rng.below(b.length);
    if (!(b[at] >= 0x30 && b[at] <= 0x39)) return b;
    let s = at;
    let e = at;
    while (s > 0 && b[s - 1] >= 0x30 && b[s - 1] <= 0x39) s--;
    while (e < b.length && b[e] >= 0x30 && b[e] <= 0x39) e++;
    // Sometimes a very long run of digits (optionally not a number after all): number patterns
    // that backtrack, and number parsers that allocate per digit.
    const text = rng.chance(0.1) ? `${'9'.repeat(1000 + rng.below(100_000))}${rng.pick(['', 'x', '.', 'e', '-', '.5e'])}` : rng.pick(INTERESTING_NUMBERS);
    return concat(b.subarray(0, s), enc.encode(text), b.subarray(e));
  }],
  ['dictionary', 3, (rng, b, ctx) => {
    if (!ctx.dict.length) return b;
    const token = ctx.dict[rng.below(ctx.dict.length)];
    const at = pos(rng, b.length, ctx, 1);
    if (rng.chance(0.5)) return concat(b.subarray(0, at), token, b.subarray(at));
    return concat(b.subarray(0, at), token, b.subarray(Math.min(b.length, at + token.length)));
  }],
];

/** Splits text into tokens: numbers, words, quoted strings, single punctuation/space runs. */
const TOKEN_RE = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_][\w.-]*|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\s+|./gsu;

function tokenize(text) {
  return text.match(TOKEN_RE) ?? [];
}

/** Token-level mutators for text targets: (rng, tokens, ctx) → tokens. */
const TEXT_MUTATORS = [
  ['number', 6, (rng, t) => {
    const idx = [];
    for (let i = 0; i < t.length; i++) if (/^-?\d/.test(t[i])) idx.push(i);
    if (!idx.length) return t;
    t[rng.pick(idx)] = rng.chance(0.05) ? `${'9'.repeat(1000 + rng.below(100_000))}${rng.pick(['', 'x', '.', 'e'])}` : rng.pick(INTERESTING_NUMBERS);
    return t;
  }],
  ['swap-token', 3, (rng, t) => {
    const words = [];
    for (let i = 0; i < t.length; i++) if (!/^\s/.test(t[i]) && t[i].length > 1) words.push(i);
    if (words.length < 2) return t;
    const a = rng.pick(words);
    const b = rng.pick(words);
    t[a] = t[b];
    return t;
  }],
  ['delete-token', 3, (rng, t) => {
    if (!t.length) return t;
    t.splice(rng.below(t.length), 1 + (rng.chance(0.3) ? rng.below(8) : 0));
    return t;
  }],
  ['duplicate-tokens', 2, (rng, t) => {
    if (!t.length) return t;
    const from = rng.below(t.length);
    const n = 1 + rng.below(Math.min(64, t.length - from));
    t.splice(rng.below(t.length + 1), 0, ...t.slice(from, from + n));
    return t;
  }],
  ['special', 4, (rng, t, ctx) => {
    const tok = rng.chance(0.8) ? rng.pick(TEXT_SPECIALS) : rng.pick(ctx.textDict.length ? ctx.textDict : TEXT_SPECIALS);
    const at = rng.below(t.length + 1);
    if (rng.chance(0.5) && at < t.length) t[at] = tok;
    else t.splice(at, 0, tok);
    return t;
  }],
  ['line', 3, (rng, t) => {
    // Delete, duplicate or move one line.
    const text = t.join('');
    const lines = text.split('\n');
    if (lines.length < 2) return t;
    const i = rng.below(lines.length);
    const r = rng.below(3);
    if (r === 0) lines.splice(i, 1);
    else if (r === 1) lines.splice(i, 0, lines[i]);
    else lines.splice(rng.below(lines.length), 0, ...lines.splice(i, 1));
    return tokenize(lines.join('\n'));
  }],
  ['nest', 1, (rng, t) => {
    // Deep nesting (stack depth of recursive parsers).
    const depth = 1 + rng.below(rng.chance(0.2) ? 20000 : 200);
    const open = rng.chance(0.5) ? '[' : '{"a":';
    const close = open === '[' ? ']' : '}';
    t.splice(rng.below(t.length + 1), 0, open.repeat(depth) + (rng.chance(0.8) ? close.repeat(depth) : ''));
    return t;
  }],
  ['long-string', 1, (rng, t) => {
    const n = 1 + rng.below(rng.chance(0.2) ? 1 << 20 : 4096);
    t.splice(rng.below(t.length + 1), 0, `"${'x'.repeat(n)}"`);
    return t;
  }],
];

function pickWeighted(rng, table) {
  let total = 0;
  for (const m of table) total += m[1];
  let r = rng.below(total);
  for (const m of table) {
    r -= m[1];
    if (r < 0) return m;
  }
  return table[table.length - 1];
}

const dec = new TextDecoder();

/**
 * Builds input `iteration` of a campaign: one of `seeds`, with 1–8 stacked mutations (sometimes
 * up to 32), deterministically from `(seed, iteration)`.
 *
 * @param {Uint8Array[]} seeds valid seed files
 * @param {number} seed campaign seed
 * @param {number} iteration input number
 * @param {{ text?: boolean, tail?: number, dict?: (string|Uint8Array)[], maxLen?: number,
 *   fixup?: (bytes: Uint8Array) => Uint8Array }} [options]
 *   `text`: use token-level mutators most of the time; `tail`: bias positions towards the last
 *   `tail` bytes; `dict`: tokens to insert; `maxLen`: inputs are cut to this length (default 4 MiB);
 *   `fixup`: applied to half of the mutated inputs to repair a length or checksum field, so the
 *   mutations reach the code behind it
 * @returns {{ bytes: Uint8Array, seedIndex: number, mutations: string[] }}
 */
export function generateInput(seeds, seed, iteration, options = {}) {
  const rng = createRng(seed, iteration);
  const seedIndex = rng.below(seeds.length);
  let bytes = seeds[seedIndex].slice();
  const mutations = [];
  const maxLen = options.maxLen ?? 4 * 2 ** 20;
  const dict = (options.dict ?? []).map((d) => (typeof d === 'string' ? enc.encode(d) : d));
  const ctx = { seeds, dict, tail: options.tail ?? 0, maxLen, textDict: (options.dict ?? []).filter((d) => typeof d === 'string') };
  // 2% of inputs are a seed as is: the valid path runs too.
  if (!rng.chance(0.02)) {
    const n = rng.chance(0.1) ? 1 + rng.below(32) : 1 + rng.below(8);
    for (let k = 0; k < n; k++) {
      if (options.text && rng.chance(0.75)) {
        const [name, , fn] = pickWeighted(rng, TEXT_MUTATORS);
        bytes = enc.encode(fn(rng, tokenize(dec.decode(bytes)), ctx).join(''));
        mutations.push(name);
      } else {
        const [name, , fn] = pickWeighted(rng, BYTE_MUTATORS);
        bytes = fn(rng, bytes, ctx);
        mutations.push(name);
      }
      if (bytes.length > maxLen) bytes = bytes.slice(0, maxLen);
    }
    if (options.fixup && rng.chance(0.5)) {
      bytes = options.fixup(bytes);
      mutations.push('fixup');
    }
  }
  return { bytes, seedIndex, mutations };
}
