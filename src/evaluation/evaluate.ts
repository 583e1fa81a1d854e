import type { BuiltPipeline } from '../pipeline/build.js';
import { classifyAll } from '../pipeline/run.js';
import { maskMessage } from '../lines/masking.js';
import type { Decision, StageName } from '../stages/types.js';
import type { LabelledLogRow } from '../training/dataset.js';
import { calibration, classificationReport, type CalibrationBin, type ClassificationReport } from '../training/metrics.js';

export interface StageSummary {
  readonly stage: StageName;
  readonly rows: number;
  /** Share of all rows this stage decided. */
  readonly coverage: number;
  /** Accuracy on the rows this stage decided (null when it decided none). */
  readonly accuracy: number | null;
}

export interface ThresholdPoint {
  readonly threshold: number;
  /** Share of embedding-stage rows at or above the threshold (kept by the embedding stage). */
  readonly coverage: number;
  /** Accuracy on those rows. */
  readonly accuracy: number;
}

export interface GroupAccuracy {
  readonly name: string;
  readonly rows: number;
  readonly accuracy: number;
  /** Accuracy averaged over the group's templates (each template counts once). */
  readonly templateAccuracy: number;
  readonly templates: number;
}

export interface EvaluationResult {
  readonly rows: number;
  readonly report: ClassificationReport;
  readonly stages: StageSummary[];
  readonly calibration: { ece: number; bins: CalibrationBin[] };
  /** Coverage/accuracy trade-off of the embedding stage's confidence threshold. */
  readonly thresholdCurve: ThresholdPoint[];
  /** Labels present in the data that no stage can ever produce. */
  readonly unknownLabels: string[];
  readonly rowsPerSecond: number;
  /**
   * Distinct decisions the model stages made (each a model run): rows of one prepared line, or
   * of one template where decisions are shared per template (pipeline.templateDecisions), share one.
   */
  readonly modelDecisions: number;
  /**
   * Accuracy averaged over templates: a few chatty templates dominate line counts, so each
   * template (the file's event_id, else the masked message) counts once.
   */
  readonly templateAccuracy: number;
  readonly templates: number;
  /** Per source (system), sorted by name. */
  readonly bySource: GroupAccuracy[];
  /** One decision per scored row, in order (written to predictions.csv, not report.json). */
  readonly decisions: readonly Decision[];
}

const STAGES: StageName[] = ['regex', 'embedding', 'llm', 'fallback', 'error'];
// `override` never decides here: evaluation runs without the template store.

/** Runs the real pipeline over labelled rows and scores it. */
export async function evaluate(rows: readonly LabelledLogRow[], built: BuiltPipeline, batchSize = 512): Promise<EvaluationResult> {
  const started = performance.now();
  // The service's batch driver, so that evaluation scores exactly what /classify answers.
  const records = rows.map((r) => ({ source: r.source, message: r.message }));
  const decidedBefore = built.pipeline.stats.decided;
  const decisions = await classifyAll(records, built.pipeline, { batchSize, maxMessageChars: Number.POSITIVE_INFINITY });
  const elapsed = (performance.now() - started) / 1000;
  const modelDecisions = built.pipeline.stats.decided - decidedBefore;

  const truth = rows.map((r) => r.label);
  const predicted = decisions.map((d) => d.label);
  const known = new Set([...built.info.labels, built.info.unclassifiedLabel]);
  const unknownLabels = [...new Set(truth)].filter((l) => !known.has(l)).sort();
  const report = classificationReport(truth, predicted, [...built.info.head.labels]);

  const stages = STAGES.map((stage) => {
    const idx = decisions.flatMap((d, i) => (d.stage === stage ? [i] : []));
    const hits = idx.filter((i) => predicted[i] === truth[i]).length;
    return { stage, rows: idx.length, coverage: rows.length ? idx.length / rows.length : 0, accuracy: idx.length ? hits / idx.length : null };
  }).filter((s) => s.rows > 0 || s.stage !== 'error');

  const correct = decisions.map((d, i) => d.label === truth[i]);
  const all = groupAccuracy('all', rows.map((_, i) => i), rows, correct);
  const sources = [...new Set(rows.map((r) => r.source))].sort();
  const bySource = sources.map((s) => groupAccuracy(s, rows.flatMap((r, i) => (r.source === s ? [i] : [])), rows, correct));
  return {
    rows: rows.length,
    report,
    stages,
    calibration: calibration(decisions.map((d) => d.confidence), correct),
    thresholdCurve: await thresholdCurve(rows, decisions, built),
    unknownLabels,
    rowsPerSecond: elapsed > 0 ? rows.length / elapsed : 0,
    modelDecisions,
    templateAccuracy: all.templateAccuracy,
    templates: all.templates,
    bySource,
    decisions,
  };
}

/** The template a row belongs to: its event_id, else its masked message (source-qualified). */
export function templateOf(row: LabelledLogRow): string {
  return `${row.source}\u0000${row.template ?? maskMessage(row.message).toLowerCase()}`;
}

function groupAccuracy(name: string, idx: readonly number[], rows: readonly LabelledLogRow[], correct: readonly boolean[]): GroupAccuracy {
  const perTemplate = new Map<string, { n: number; hits: number }>();
  let hits = 0;
  for (const i of idx) {
    const key = templateOf(rows[i]);
    const t = perTemplate.get(key) ?? { n: 0, hits: 0 };
    t.n++;
    if (correct[i]) {
      t.hits++;
      hits++;
    }
    perTemplate.set(key, t);
  }
  let sum = 0;
  for (const t of perTemplate.values()) sum += t.hits / t.n;
  return {
    name,
    rows: idx.length,
    accuracy: idx.length ? hits / idx.length : 0,
    templateAccuracy: perTemplate.size ? sum / perTemplate.size : 0,
    templates: perTemplate.size,
  };
}

/**
 * For every row the embedding stage saw (not decided by a rule, not routed straight to the LLM),
 * how many it would keep and how accurate they are, at each threshold.
 */
async function thresholdCurve(rows: readonly LabelledLogRow[], decisions: readonly Decision[], built: BuiltPipeline): Promise<ThresholdPoint[]> {
  if (!built.pipeline.stages.some((s) => s.name === 'embedding')) return [];
  const reached = decisions.flatMap((d, i) => (d.stage === 'embedding' || (d.stage === 'fallback' && d.confidence > 0) || d.stage === 'llm' ? [i] : []))
    .filter((i) => !built.info.llmSources.includes(rows[i].source));
  if (reached.length === 0) return [];
  const verdicts = await built.pipeline.stageVerdicts('embedding', reached.map((i) => ({ source: rows[i].source, message: rows[i].message })));
  const points: ThresholdPoint[] = [];
  for (let t = 0; t <= 0.951; t += 0.05) {
    const kept = reached.filter((_, k) => verdicts[k]!.confidence >= t);
    const hits = reached.filter((i, k) => verdicts[k]!.confidence >= t && verdicts[k]!.label === rows[i].label).length;
    points.push({ threshold: Math.round(t * 100) / 100, coverage: kept.length / reached.length, accuracy: kept.length ? hits / kept.length : 1 });
  }
  return points;
}
