import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../util/hash.ts';

/**
 * Parsed values of YAML files, by content: the YAML parser's first run in a process costs tens of
 * milliseconds of every command's start (its lexer runs cold), more than the rest of a cached run's
 * bookkeeping. A file read again with the same bytes gets its value from here; its source positions
 * (for error messages) are parsed only when needed. Kept per user in $XDG_CACHE_HOME/medpipe (or
 * ~/.cache/medpipe, or PIPELINE_CACHE_DIR; empty turns it off); best effort: any failure just parses.
 */
const FORMAT = 'yaml-2/1';

function cacheDir(): string | undefined {
  const env = process.env;
  if (env.PIPELINE_CACHE_DIR !== undefined) return env.PIPELINE_CACHE_DIR || undefined;
  const base = env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : undefined);
  return base && join(base, 'medpipe', 'yaml');
}

function entryPath(text: string): string | undefined {
  const dir = cacheDir();
  return dir && join(dir, `${sha256(`${FORMAT}\0${text}`)}.json`);
}

export async function cachedYamlValue(text: string): Promise<{ value: unknown } | undefined> {
  const path = entryPath(text);
  if (!path) return undefined;
  try {
    return { value: JSON.parse(await readFile(path, 'utf8')) };
  } catch {
    return undefined;
  }
}

/** Remembers a value that JSON keeps exactly (no NaN, Infinity, dates or big integers); else nothing. */
export async function rememberYamlValue(text: string, value: unknown): Promise<void> {
  const path = entryPath(text);
  if (!path || !jsonExact(value)) return;
  try {
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(value));
    await rename(tmp, path);
  } catch {
    // a cache that cannot be written is no cache
  }
}

function jsonExact(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(jsonExact);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value as object).every(jsonExact);
  return false;
}
