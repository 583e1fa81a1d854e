import { describe, expect, it } from 'vitest';
import { calibration, classificationReport } from '../../src/training/metrics.js';

describe('classificationReport (hand-computed)', () => {
  const truth = ['a', 'a', 'b', 'b', 'c'];
  const predicted = ['a', 'b', 'b', 'b', 'a'];
  const report = classificationReport(truth, predicted, ['a', 'b', 'c', 'd']);
  const by = (l: string) => report.perLabel.find((s) => s.label === l)!;

  it('per label precision, recall, F1 and support', () => {
    expect(by('a')).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(by('b').precision).toBeCloseTo(2 / 3, 12);
    expect(by('b').recall).toBe(1);
    expect(by('b').f1).toBeCloseTo(0.8, 12);
    expect(by('c')).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it('a label with zero support scores 0 and is left out of the averages', () => {
    expect(by('d')).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(report.macro.precision).toBeCloseTo((0.5 + 2 / 3 + 0) / 3, 12);
    expect(report.macro.recall).toBeCloseTo(0.5, 12);
    expect(report.macro.f1).toBeCloseTo((0.5 + 0.8) / 3, 12);
    expect(report.weighted.f1).toBeCloseTo((0.5 * 2 + 0.8 * 2) / 5, 12);
  });

  it('accuracy and the confusion matrix', () => {
    expect(report.accuracy).toBeCloseTo(0.6, 12);
    expect(report.confusion).toEqual([
      [1, 1, 0, 0],
      [0, 2, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('labels missing from the given order are appended, not dropped', () => {
    const r = classificationReport(['x', 'y'], ['x', 'z'], ['x']);
    expect(r.labels).toEqual(['x', 'y', 'z']);
    expect(r.perLabel.find((s) => s.label === 'z')).toMatchObject({ precision: 0, support: 0 });
  });

  it('a perfect prediction scores 1 everywhere', () => {
    const r = classificationReport(['a', 'b', 'b'], ['a', 'b', 'b']);
    expect(r.accuracy).toBe(1);
    expect(r.macro).toEqual({ precision: 1, recall: 1, f1: 1 });
    expect(r.weighted).toEqual({ precision: 1, recall: 1, f1: 1 });
  });

  it('an empty prediction set gives zeros, not NaN', () => {
    const r = classificationReport([], []);
    expect(r.accuracy).toBe(0);
    expect(r.macro.f1).toBe(0);
    expect(r.support).toBe(0);
  });

  it('refuses mismatched lengths', () => {
    expect(() => classificationReport(['a'], [])).toThrow(/1 rows, predictions 0/);
  });
});

describe('calibration', () => {
  it('expected calibration error over equal-width bins', () => {
    const { ece, bins } = calibration([0.9, 0.9, 0.2, 0.2], [true, false, false, false]);
    // bin 0.9: |0.5 - 0.9| * 2/4 = 0.2; bin 0.2: |0 - 0.2| * 2/4 = 0.1
    expect(ece).toBeCloseTo(0.3, 12);
    expect(bins[9]).toMatchObject({ count: 2, accuracy: 0.5 });
    expect(bins[2]).toMatchObject({ count: 2, accuracy: 0 });
  });

  it('is 0 for perfectly calibrated confidences and for no rows', () => {
    expect(calibration([1, 1], [true, true]).ece).toBe(0);
    expect(calibration([], []).ece).toBe(0);
  });
});
