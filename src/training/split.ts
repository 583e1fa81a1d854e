import { maskMessage } from '../lines/masking.js';
import { mulberry32, shuffle } from './random.js';

export type SplitKind = 'random' | 'group';

export interface LabelledRow {
  readonly message: string;
  readonly label: string;
}

/**
 * Splits row indices into train/test with `testFraction` of each label in test.
 * `random` is stratified by label (the published baselines' split). `group` keeps every row
 * sharing a masked template on one side, so test rows are never near-copies of training rows.
 */
export function splitIndices(
  rows: readonly LabelledRow[],
  options: { kind: SplitKind; testFraction: number; seed: number },
): { train: number[]; test: number[] } {
  const random = mulberry32(options.seed);
  const byLabel = new Map<string, number[]>();
  rows.forEach((r, i) => byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), i]));
  const train: number[] = [];
  const test: number[] = [];
  if (options.kind === 'random') {
    for (const label of [...byLabel.keys()].sort()) {
      const idx = shuffle(byLabel.get(label)!, random);
      const nTest = Math.round(idx.length * options.testFraction);
      test.push(...idx.slice(0, nTest));
      train.push(...idx.slice(nTest));
    }
  } else {
    // Groups are keyed by masked message; a template's rows may carry different labels, so a
    // group is assigned whole, walking groups in random order and filling each label's quota.
    const groups = new Map<string, number[]>();
    rows.forEach((r, i) => {
      const key = maskMessage(r.message).toLowerCase();
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const quota = new Map([...byLabel].map(([l, idx]) => [l, Math.round(idx.length * options.testFraction)]));
    const taken = new Map<string, number>();
    for (const key of shuffle([...groups.keys()].sort(), random)) {
      const members = groups.get(key)!;
      const label = rows[members[0]].label;
      const have = taken.get(label) ?? 0;
      if (have < quota.get(label)!) {
        test.push(...members);
        taken.set(label, have + members.length);
      } else {
        train.push(...members);
      }
    }
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
