import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { ConfigError, describeIssue } from '../errors.js';
import { configSchema, ENV_VARS, LIST_PATHS, type Config, type ConfigInput } from './schema.js';

export { configSchema, ENV_VARS, type Config, type ConfigInput } from './schema.js';

/** The project root (where configs/ and models/ live), resolved from this file's location. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    node[key] = typeof node[key] === 'object' && node[key] !== null ? { ...(node[key] as Tree) } : {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]] = value;
}

function mergeDeep(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object'
        ? mergeDeep(prev as Tree, value as Tree)
        : value;
  }
  return out;
}

export { ConfigError } from '../errors.js';

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `  ${describeIssue(i)}`).join('\n');
}

/** Relative paths in the config are relative to the project root, so the service runs from anywhere. */
export function resolvePath(path: string): string {
  return resolve(PROJECT_ROOT, path);
}

/**
 * Builds the one validated Config: defaults ← JSON file (LOGSIFT_CONFIG or `configFile`)
 * ← environment ← explicit overrides. Throws ConfigError naming each bad field.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = {},
  overrides: ConfigInput = {},
  configFile: string | undefined = env.LOGSIFT_CONFIG,
): Config {
  let tree: Tree = {};
  if (configFile) {
    const path = resolvePath(configFile);
    if (!existsSync(path)) throw new ConfigError(`config file not found: ${path}`);
    try {
      tree = JSON.parse(readFileSync(path, 'utf8')) as Tree;
    } catch (err) {
      throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
    }
  }
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = LIST_PATHS.has(path) ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
    setPath(tree, path, value);
  }
  tree = mergeDeep(tree, overrides as Tree);
  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** The head file for an embedder kind. */
export function headPath(config: Config, kind: 'onnx' | 'lexical'): string {
  return join(resolvePath(config.head.dir), `head-${kind}.json`);
}
