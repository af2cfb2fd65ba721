import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/fixtures.js';

/** @da3js/core must run in browsers, workers and Node alike: no runtime modules in its sources. */
const FORBIDDEN =
  /(?:from|import|require\()\s*['"](node:[\w/]+|fs|fs\/promises|path|os|url|crypto|child_process|worker_threads|stream|buffer|util|onnxruntime-(?:node|web|common)|sharp)['"]/;
// WebGPU's flag objects too: core's WebGPU rasterizer uses only the device it is given.
const FORBIDDEN_GLOBALS = /\b(?:process\.|Buffer\.|__dirname|__filename|document\.|window\.|navigator\.|GPUBufferUsage\.|GPUMapMode\.|GPUShaderStage\.|GPUTextureUsage\.)/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : /\.ts$/.test(name) ? [p] : [];
  });
}

describe('@da3js/core is runtime-free', () => {
  const files = sources(join(REPO_ROOT, 'packages/core/src'));

  it('has sources to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('imports no Node built-in, DOM or onnxruntime module', () => {
    const offenders = files.filter((f) => FORBIDDEN.test(readFileSync(f, 'utf8'))).map((f) => relative(REPO_ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('touches no Node or DOM globals', () => {
    const offenders = files
      .filter((f) => FORBIDDEN_GLOBALS.test(readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')))
      .map((f) => relative(REPO_ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('detects a forbidden import (the check itself works)', () => {
    expect(FORBIDDEN.test(`import { readFile } from 'node:fs/promises';`)).toBe(true);
    expect(FORBIDDEN.test(`import * as ort from "onnxruntime-web"`)).toBe(true);
    expect(FORBIDDEN.test(`import { parse } from 'yaml';`)).toBe(false);
  });

  it('depends on no runtime package', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/core/package.json'), 'utf8'));
    const deps = Object.keys(pkg.dependencies ?? {});
    expect(deps.filter((d) => /onnxruntime|sharp|^node:|canvas|jsdom/.test(d))).toEqual([]);
  });
});
