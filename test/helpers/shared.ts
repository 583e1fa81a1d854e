import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from '../../src/config/index.js';

/**
 * The machine's read-only shared folder: `../shared` next to a checkout, `../../shared` for a
 * git worktree one level further down (e.g. /work/wt/<name>). The first that exists.
 */
export const SHARED_DIR = [resolve(PROJECT_ROOT, '../shared'), resolve(PROJECT_ROOT, '../../shared')].find((d) => existsSync(d)) ?? resolve(PROJECT_ROOT, '../shared');

/** all-MiniLM-L6-v2's shape with random weights: for speed and parity tests only. */
export const RANDOM_MINILM_DIR = resolve(SHARED_DIR, 'models/minilm-l6-shaped-random');
