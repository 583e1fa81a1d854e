import type { EvaluationResult } from './evaluate.js';

const f = (x: number | null) => (x === null ? '—' : x.toFixed(3));

/** The human-readable report.md. */
export function markdownReport(title: string, result: EvaluationResult, context: Record<string, string | number>): string {
  const { report } = result;
  const lines = [`# ${title}`, ''];
  for (const [k, v] of Object.entries(context)) lines.push(`- ${k}: ${v}`);
  lines.push(`- rows: ${result.rows}, ${Math.round(result.rowsPerSecond)} rows/s`, `- distinct model decisions (model runs): ${result.modelDecisions}`, '');
  lines.push(`**accuracy ${f(report.accuracy)} · accuracy averaged over ${result.templates} templates ${f(result.templateAccuracy)} · macro F1 ${f(report.macro.f1)} · weighted F1 ${f(report.weighted.f1)} · ECE ${result.calibration.ece.toFixed(4)}**`, '');
  if (result.unknownLabels.length) {
    lines.push(`> Labels in the data that no stage can produce (always counted wrong): ${result.unknownLabels.join(', ')}`, '');
  }
  lines.push('| label | precision | recall | F1 | support |', '|---|---:|---:|---:|---:|');
  for (const s of report.perLabel) lines.push(`| ${s.label} | ${f(s.precision)} | ${f(s.recall)} | ${f(s.f1)} | ${s.support} |`);
  lines.push(`| **macro avg** | ${f(report.macro.precision)} | ${f(report.macro.recall)} | ${f(report.macro.f1)} | ${report.support} |`);
  lines.push(`| **weighted avg** | ${f(report.weighted.precision)} | ${f(report.weighted.recall)} | ${f(report.weighted.f1)} | ${report.support} |`, '');
  if (result.bySource.length > 1) {
    lines.push('## Per source', '', '| source | rows | accuracy | templates | accuracy averaged over templates |', '|---|---:|---:|---:|---:|');
    for (const s of result.bySource) lines.push(`| ${s.name} | ${s.rows} | ${f(s.accuracy)} | ${s.templates} | ${f(s.templateAccuracy)} |`);
    lines.push('');
  }
  lines.push('## Stages', '', '| stage | rows | coverage | accuracy |', '|---|---:|---:|---:|');
  for (const s of result.stages) lines.push(`| ${s.stage} | ${s.rows} | ${f(s.coverage)} | ${f(s.accuracy)} |`);
  lines.push('', '## Confusion matrix (rows: true, columns: predicted)', '', '![confusion](confusion.svg)', '');
  lines.push(`| true \\ predicted | ${report.labels.join(' | ')} |`, `|---|${report.labels.map(() => '---:').join('|')}|`);
  report.labels.forEach((l, i) => lines.push(`| ${l} | ${report.confusion[i].join(' | ')} |`));
  lines.push('', '## Calibration', '', '![reliability](reliability.svg)', '', '| confidence | rows | mean confidence | accuracy |', '|---|---:|---:|---:|');
  for (const b of result.calibration.bins) if (b.count) lines.push(`| ${b.lower.toFixed(1)}–${b.upper.toFixed(1)} | ${b.count} | ${f(b.meanConfidence)} | ${f(b.accuracy)} |`);
  if (result.thresholdCurve.length) {
    lines.push('', '## Embedding threshold trade-off', '', 'Rows below the threshold go on to the LLM stage.', '', '| threshold | kept by embedding | accuracy of kept |', '|---:|---:|---:|');
    for (const p of result.thresholdCurve) lines.push(`| ${p.threshold.toFixed(2)} | ${f(p.coverage)} | ${f(p.accuracy)} |`);
  }
  return lines.join('\n') + '\n';
}
