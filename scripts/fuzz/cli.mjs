#!/usr/bin/env node
/**
 * `npm run fuzz -- --minutes N [--target name[,name…]] [--seed S] [--hang-ms MS] [--rss-mib MIB]`
 * `npm run fuzz -- --target name --seed S --iteration I` (one input again, e.g. from a report)
 * `npm run fuzz -- --replay` (every input under fuzz/regressions/, through its target)
 *
 * Runs every target (the minutes are split evenly between them), one after the other, each in a
 * worker under the watchdog of engine.mjs. Writes a JSON report to `fuzz/reports/<date>.json` and
 * saves the input of every finding as `fuzz/regressions/<target>/<sha256 prefix>.bin` with a
 * `.json` beside it (error, seed, iteration), ready to be committed once the parser is fixed.
 * Exit status: 0 without findings, 1 with findings, 2 for bad arguments.
 */
import { createHash, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fuzzTarget, replayInputs } from './engine.mjs';
import { TARGETS } from './targets.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REGRESSIONS = join(ROOT, 'fuzz', 'regressions');
const REPORTS = join(ROOT, 'fuzz', 'reports');

/** The saved inputs of one target's regressions folder, as `{ file, bytes }`, sorted by name. */
export function regressionInputs(target) {
  const dir = join(REGRESSIONS, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => ({ file: join(dir, f), bytes: new Uint8Array(readFileSync(join(dir, f))) }));
}

function saveFinding(target, finding, seed) {
  if (!finding.input) return undefined;
  const sha = createHash('sha256').update(finding.input).digest('hex').slice(0, 16);
  const dir = join(REGRESSIONS, target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${sha}.bin`);
  writeFileSync(file, finding.input);
  const stack = finding.stack?.replaceAll(`file://${ROOT}/`, '').replaceAll(`${ROOT}/`, '');
  const meta = { target, kind: finding.kind, error: finding.error, stack, seed, iteration: finding.index, mutations: finding.mutations, bytes: finding.input.length, found: new Date().toISOString() };
  writeFileSync(join(dir, `${sha}.json`), `${JSON.stringify(meta, null, 2)}\n`);
  return file;
}

/** The stats without input bytes, with the saved file of each finding. */
function forReport(stats, saved) {
  const strip = (list) => list.map(({ input, ...f }) => ({ ...f, bytes: input?.length, file: saved.get(input) }));
  return { ...stats, untyped: strip(stats.untyped), hangs: strip(stats.hangs), blowups: strip(stats.blowups) };
}

function line(s) {
  const findings = s.untyped.length + s.hangs.length + s.blowups.length;
  const codes = Object.entries(s.byCode)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${s.target.padEnd(14)} ${String(s.inputs).padStart(8)} inputs  ok ${s.ok}  typed ${s.typedErrors} (${codes || '-'})  untyped ${s.untyped.length}  hangs ${s.hangs.length}  blowups ${s.blowups.length}  peak RSS ${s.rssPeakMiB.toFixed(0)} MiB  ${(s.ms / 1000).toFixed(1)} s${findings ? '  ← FINDINGS' : ''}`;
}

async function main() {
  let args;
  try {
    args = parseArgs({
      options: {
        minutes: { type: 'string', default: '1' },
        target: { type: 'string', multiple: true },
        seed: { type: 'string' },
        'hang-ms': { type: 'string', default: '2000' },
        'rss-mib': { type: 'string', default: '1024' },
        iteration: { type: 'string' },
        replay: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (e) {
    console.error(String(e.message));
    return 2;
  }
  if (args.help) {
    console.log('npm run fuzz -- --minutes N [--target name[,name…]] [--seed S] [--hang-ms 2000] [--rss-mib 1024]');
    console.log('npm run fuzz -- --target name --seed S --iteration I    (one input again)');
    console.log('npm run fuzz -- --replay [--target name]                (the saved regressions)');
    console.log(`targets: ${Object.keys(TARGETS).join(', ')}`);
    return 0;
  }
  const names = (args.target ?? Object.keys(TARGETS)).flatMap((t) => t.split(','));
  const unknown = names.filter((n) => !TARGETS[n]);
  if (unknown.length) {
    console.error(`unknown target ${unknown.join(', ')}; targets: ${Object.keys(TARGETS).join(', ')}`);
    return 2;
  }
  const minutes = Number(args.minutes);
  const seed = args.seed === undefined ? randomInt(2 ** 31) : Number(args.seed);
  const hangMs = Number(args['hang-ms']);
  const rssLimitMiB = Number(args['rss-mib']);
  if (!(minutes > 0) || !Number.isSafeInteger(seed) || !(hangMs > 0) || !(rssLimitMiB > 0)) {
    console.error('--minutes, --hang-ms and --rss-mib must be positive numbers, --seed an integer');
    return 2;
  }
  const iteration = args.iteration === undefined ? undefined : Number(args.iteration);
  if (iteration !== undefined && (!Number.isSafeInteger(iteration) || iteration < 0 || args.seed === undefined || names.length !== 1)) {
    console.error('--iteration needs one --target, a --seed and a non-negative integer');
    return 2;
  }
  const started = new Date();
  const results = [];
  const saved = new Map();
  if (args.replay) console.log(`replaying fuzz/regressions/ for ${names.join(', ')}`);
  else if (iteration !== undefined) console.log(`${names[0]}: seed ${seed}, iteration ${iteration}`);
  else console.log(`fuzzing ${names.join(', ')} for ${minutes} min (${((minutes * 60) / names.length).toFixed(0)} s each), seed ${seed}`);
  for (const name of names) {
    let stats;
    if (args.replay) {
      const inputs = regressionInputs(name);
      if (!inputs.length) continue;
      stats = await replayInputs(name, inputs.map((i) => i.bytes), { hangMs, rssLimitMiB });
    } else {
      const budget = iteration === undefined ? { ms: (minutes * 60_000) / names.length } : { startIteration: iteration, iterations: 1 };
      stats = await fuzzTarget(name, { seed, ...budget, hangMs, rssLimitMiB });
      for (const f of [...stats.untyped, ...stats.hangs, ...stats.blowups]) {
        const file = saveFinding(name, f, seed);
        if (file) saved.set(f.input, file);
      }
    }
    console.log(line(stats));
    for (const f of [...stats.untyped, ...stats.hangs, ...stats.blowups].slice(0, 5)) console.log(`    ${f.kind} @${f.index}: ${f.error.split('\n')[0].slice(0, 200)}${saved.get(f.input) ? ` → ${saved.get(f.input)}` : ''}`);
    results.push(forReport(stats, saved));
  }
  const findings = results.reduce((a, s) => a + s.untyped.length + s.hangs.length + s.blowups.length, 0);
  if (!args.replay && iteration === undefined) {
    mkdirSync(REPORTS, { recursive: true });
    const file = join(REPORTS, `${started.toISOString().replace(/:/g, '-').replace(/\..*/, '')}.json`);
    const report = { started: started.toISOString(), minutes, seed, hangMs, rssLimitMiB, node: process.version, targets: results, findings };
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`report: ${file}`);
  }
  console.log(findings ? `${findings} finding(s)` : 'no findings');
  return findings ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main();
