/**
 * Classification metrics with the conventions of scikit-learn's classification_report:
 * a label with no predictions has precision 0, with no support has recall 0, and F1 is 0
 * whenever precision + recall is 0.
 */
export interface LabelScores {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

export interface ClassificationReport {
  readonly labels: readonly string[];
  readonly perLabel: readonly LabelScores[];
  readonly accuracy: number;
  readonly macro: { precision: number; recall: number; f1: number };
  readonly weighted: { precision: number; recall: number; f1: number };
  readonly support: number;
  /** confusion[i][j] = rows whose true label is labels[i] and predicted labels[j]. */
  readonly confusion: readonly (readonly number[])[];
}

/**
 * `labels` fixes the order of rows and columns; any label seen in `truth` or `predicted` but
 * missing from it is appended, so nothing is silently dropped.
 */
export function classificationReport(
  truth: readonly string[],
  predicted: readonly string[],
  labels: readonly string[] = [],
): ClassificationReport {
  if (truth.length !== predicted.length) throw new Error(`truth has ${truth.length} rows, predictions ${predicted.length}`);
  const order = [...labels];
  for (const l of [...truth, ...predicted]) if (!order.includes(l)) order.push(l);
  const index = new Map(order.map((l, i) => [l, i]));
  const confusion = order.map(() => new Array<number>(order.length).fill(0));
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    confusion[index.get(truth[i])!][index.get(predicted[i])!]++;
    if (truth[i] === predicted[i]) correct++;
  }
  const perLabel = order.map((label, i) => {
    const tp = confusion[i][i];
    const support = confusion[i].reduce((a, b) => a + b, 0);
    const predictedCount = confusion.reduce((a, row) => a + row[i], 0);
    const precision = predictedCount === 0 ? 0 : tp / predictedCount;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
  // Averages run over labels with support, as scikit-learn's report does over labels present.
  const withSupport = perLabel.filter((s) => s.support > 0);
  const total = truth.length;
  const mean = (key: 'precision' | 'recall' | 'f1'): number =>
    withSupport.length === 0 ? 0 : withSupport.reduce((a, s) => a + s[key], 0) / withSupport.length;
  const weightedMean = (key: 'precision' | 'recall' | 'f1'): number =>
    total === 0 ? 0 : withSupport.reduce((a, s) => a + s[key] * s.support, 0) / total;
  return {
    labels: order,
    perLabel,
    accuracy: total === 0 ? 0 : correct / total,
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
    weighted: { precision: weightedMean('precision'), recall: weightedMean('recall'), f1: weightedMean('f1') },
    support: total,
    confusion,
  };
}

export interface CalibrationBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  readonly meanConfidence: number;
  readonly accuracy: number;
}

/** Expected calibration error over equal-width confidence bins, and the bins for a reliability diagram. */
export function calibration(
  confidences: readonly number[],
  correct: readonly boolean[],
  binCount = 10,
): { ece: number; bins: CalibrationBin[] } {
  const sums = Array.from({ length: binCount }, () => ({ count: 0, conf: 0, hits: 0 }));
  for (let i = 0; i < confidences.length; i++) {
    const c = Math.min(Math.max(confidences[i], 0), 1);
    const b = Math.min(Math.floor(c * binCount), binCount - 1);
    sums[b].count++;
    sums[b].conf += c;
    if (correct[i]) sums[b].hits++;
  }
  const n = confidences.length;
  let ece = 0;
  const bins = sums.map((s, b) => {
    const meanConfidence = s.count ? s.conf / s.count : 0;
    const accuracy = s.count ? s.hits / s.count : 0;
    if (n > 0) ece += (s.count / n) * Math.abs(accuracy - meanConfidence);
    return { lower: b / binCount, upper: (b + 1) / binCount, count: s.count, meanConfidence, accuracy };
  });
  return { ece, bins };
}

/** A fixed-width text table like scikit-learn's classification_report. */
export function formatReport(report: ClassificationReport): string {
  const width = Math.max(12, ...report.labels.map((l) => l.length));
  const pad = (s: string) => s.padStart(width);
  const num = (x: number) => x.toFixed(3).padStart(10);
  const lines = [`${pad('')}${'precision'.padStart(10)}${'recall'.padStart(10)}${'f1-score'.padStart(10)}${'support'.padStart(10)}`, ''];
  for (const s of report.perLabel) lines.push(`${pad(s.label)}${num(s.precision)}${num(s.recall)}${num(s.f1)}${String(s.support).padStart(10)}`);
  lines.push('');
  lines.push(`${pad('accuracy')}${''.padStart(20)}${num(report.accuracy)}${String(report.support).padStart(10)}`);
  lines.push(`${pad('macro avg')}${num(report.macro.precision)}${num(report.macro.recall)}${num(report.macro.f1)}${String(report.support).padStart(10)}`);
  lines.push(`${pad('weighted avg')}${num(report.weighted.precision)}${num(report.weighted.recall)}${num(report.weighted.f1)}${String(report.support).padStart(10)}`);
  return lines.join('\n');
}
