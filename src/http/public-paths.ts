import { basename, isAbsolute, relative, sep } from 'node:path';
import { PROJECT_ROOT } from '../config/index.js';

/**
 * What may be shown about a file path to anyone who can reach /readyz: relative to the project
 * for files inside it, only the name for anything else (no absolute paths: they tell a caller
 * about the host's layout).
 */
export function publicPath(path: string): string {
  const rel = relative(PROJECT_ROOT, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : basename(path);
}

/** Absolute paths (a slash after start, space, quote, paren or `=`; not part of a URL) in free text. */
const ABSOLUTE_PATH = /(?<=^|[\s'"(=])\/(?!\/)[^\s'"()]*/g;

/** `info` with every absolute path in its strings made public (publicPath), however deeply nested. */
export function withPublicPaths<T>(info: T): T {
  if (typeof info === 'string') return info.replace(ABSOLUTE_PATH, (p) => publicPath(p)) as T;
  if (Array.isArray(info)) return info.map((v) => withPublicPaths(v)) as T;
  if (info && typeof info === 'object') return Object.fromEntries(Object.entries(info).map(([k, v]) => [k, withPublicPaths(v)])) as T;
  return info;
}
