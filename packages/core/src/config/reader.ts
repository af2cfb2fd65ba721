import { Da3Error } from '../errors.js';

/**
 * Field readers for config validation. Each looks a key up in snake_case or camelCase and throws
 * `Da3Error('BAD_CONFIG')` naming the full path of a missing or invalid field.
 * @internal
 */
export type Obj = Record<string, unknown>;

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function fail(path: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing (missing)' : JSON.stringify(got);
  throw new Da3Error('BAD_CONFIG', `config: ${path} must be ${expected}, got ${shown}`);
}

/** Looks up `key` (snake_case) or its camelCase spelling; returns the value and the spelling found. */
export function lookup(obj: Obj, key: string): { value: unknown; name: string } {
  if (Object.hasOwn(obj, key)) return { value: obj[key], name: key };
  const c = camel(key);
  if (Object.hasOwn(obj, c)) return { value: obj[c], name: c };
  return { value: undefined, name: key };
}

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function has(obj: Obj, key: string): boolean {
  const { value } = lookup(obj, key);
  return value !== undefined && value !== null;
}

export function object(obj: Obj, key: string, path: string): Obj {
  const { value, name } = lookup(obj, key);
  if (!isObj(value)) fail(`${path}.${name}`, 'an object', value);
  return value;
}

export function optionalObject(obj: Obj, key: string, path: string): Obj | null {
  const { value, name } = lookup(obj, key);
  if (value === undefined || value === null) return null;
  if (!isObj(value)) fail(`${path}.${name}`, 'an object or null', value);
  return value;
}

/**
 * The largest integer any size field of a config may hold unless it names a smaller limit: far
 * above every official model (widths ≤ 4096, depths ≤ 40) and small enough that nothing sized by a
 * config can exhaust memory before the checkpoint's own shapes are compared with it.
 */
export const CONFIG_INT_MAX = 65_536;

export interface IntOptions {
  min?: number;
  /** Largest accepted value (default {@link CONFIG_INT_MAX}). */
  max?: number;
  fallback?: number;
}

export function int(obj: Obj, key: string, path: string, opts: IntOptions = {}): number {
  const { value, name } = lookup(obj, key);
  if (value === undefined && opts.fallback !== undefined) return opts.fallback;
  const min = opts.min ?? 1;
  const max = opts.max ?? CONFIG_INT_MAX;
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) fail(`${path}.${name}`, `an integer in [${min}, ${max}]`, value);
  return value as number;
}

export function num(obj: Obj, key: string, path: string, opts: { positive?: boolean; fallback?: number } = {}): number {
  const { value, name } = lookup(obj, key);
  if (value === undefined && opts.fallback !== undefined) return opts.fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || (opts.positive && value <= 0)) {
    fail(`${path}.${name}`, opts.positive ? 'a positive finite number' : 'a finite number', value);
  }
  return value;
}

export function nullableNum(obj: Obj, key: string, path: string): number | null {
  const { value } = lookup(obj, key);
  if (value === null || value === undefined) return null;
  return num(obj, key, path, { positive: true });
}

export function bool(obj: Obj, key: string, path: string, fallback?: boolean): boolean {
  const { value, name } = lookup(obj, key);
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') fail(`${path}.${name}`, 'true or false', value);
  return value;
}

export function str(obj: Obj, key: string, path: string, fallback?: string): string {
  const { value, name } = lookup(obj, key);
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) fail(`${path}.${name}`, 'a non-empty string', value);
  return value;
}

export function oneOf<T extends string>(obj: Obj, key: string, path: string, allowed: readonly T[], fallback?: T): T {
  const { value, name } = lookup(obj, key);
  if (value === undefined && fallback !== undefined) return fallback;
  if (!allowed.includes(value as T)) fail(`${path}.${name}`, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

export function intList(obj: Obj, key: string, path: string, opts: { length?: number; min?: number; max?: number; fallback?: number[] } = {}): number[] {
  const { value, name } = lookup(obj, key);
  if (value === undefined && opts.fallback !== undefined) return opts.fallback;
  const min = opts.min ?? 0;
  const max = opts.max ?? CONFIG_INT_MAX;
  const what = `${opts.length !== undefined ? `a list of ${opts.length}` : 'a list of'} integers in [${min}, ${max}]`;
  if (!Array.isArray(value) || value.length > 64 || !value.every((v) => Number.isSafeInteger(v) && v >= min && v <= max)) fail(`${path}.${name}`, what, value);
  if (opts.length !== undefined && value.length !== opts.length) fail(`${path}.${name}`, what, value);
  return [...(value as number[])];
}

/** Throws a BAD_CONFIG error for a cross-field inconsistency. */
export function inconsistent(path: string, message: string): never {
  throw new Da3Error('BAD_CONFIG', `config: ${path} ${message}`);
}
