/**
 * `logsift discover` and POST /discover: the templates of a file (the online miner, as
 * `?explain=true` mines them), grouped into families by DBSCAN over their embeddings (cosine
 * distance), each labelled by the real pipeline (its example line's decision), and regex rules
 * suggested for the frequent templates the model is sure of (rules.ts).
 *
 * One pass over the rows, through pipeline/run.ts runRows (the same batches, limits and error rows
 * as /classify). Memory: the miner's templates (pipeline.explainMaxTemplates), and per template a
 * tally — counts, the example line, the labels seen, and a few of its lines (at most
 * SAMPLES_PER_TEMPLATE, SAMPLE_CHARS characters) for checking the suggested rules; tallies past
 * twice the miner's cap are not made (their lines are counted as `untracked`).
 */
import type { Embedder } from '../embedding/types.js';
import { TemplateMiner, WILDCARD } from '../lines/templates.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { runRows, type InputRow } from '../pipeline/run.js';
import type { Decision } from '../stages/types.js';
import { compileRules, type RegexRule } from '../stages/regex.js';
import { LinearPatternSet } from '../lines/linear-regex.js';
import { cosineNeighbours } from './cosine.js';
import { dbscan, NOISE } from './dbscan.js';
import { suggestRules, type RejectedRule } from './rules.js';

export interface DiscoverOptions {
  /** DBSCAN radius, in cosine distance. */
  readonly eps: number;
  /** DBSCAN: templates within eps (itself included) that make a template a core point. */
  readonly minSamples: number;
  /** Lines a template needs for a rule to be suggested. */
  readonly minLines: number;
  /** Confidence the pipeline's label of a template needs for a rule. */
  readonly minConfidence: number;
}

/**
 * Defaults, the same for every file. eps 0.2 and min_samples 1 are what the Python log
 * classification projects logsift grew from pass to scikit-learn's DBSCAN over sentence
 * embeddings (cosine): every template is in a family, alone if nothing is near it.
 */
export const DISCOVER_DEFAULTS: DiscoverOptions = { eps: 0.2, minSamples: 1, minLines: 10, minConfidence: 0.9 };

export interface RunLimits {
  readonly batchSize: number;
  readonly maxRows?: number;
  readonly maxMessageChars?: number;
  /** Templates the miner remembers. */
  readonly maxTemplates?: number;
}

const SAMPLES_PER_TEMPLATE = 16;
const SAMPLE_CHARS = 8192;

export interface DiscoveredTemplate {
  readonly id: string;
  readonly template: string;
  readonly count: number;
  readonly label: string;
  readonly stage: Decision['stage'];
  readonly confidence: number;
  /** Family number; -1: noise (no family). */
  readonly family: number;
  /** The template's first line, as sent; its decision is the template's label. */
  readonly example: string;
  /** Lines by the label the pipeline gave each. */
  readonly modelLabels: Record<string, number>;
  /** Lines by their ground-truth label, when the input has one. */
  readonly truthLabels?: Record<string, number>;
}

export interface DiscoveredFamily {
  readonly family: number;
  readonly templates: number;
  readonly lines: number;
  readonly representativeId: string;
  readonly representative: string;
  /** Lines by template label, most first. */
  readonly labels: Record<string, number>;
}

export interface RuleFigures {
  readonly id: string;
  readonly label: string;
  readonly lines: number;
  /** Lines the pipeline gave the rule's label. */
  readonly agreeModel: number;
  /** Lines whose ground truth is the rule's label; undefined without ground truth. */
  readonly agreeTruth?: number;
  /** Lines with a ground truth. */
  readonly truthLines?: number;
}

export interface Coverage {
  readonly lines: number;
  /** Lines the suggested rules take. */
  readonly covered: number;
  readonly share: number;
  readonly agreeModel: number;
  readonly agreeTruth?: number;
  readonly truthLines?: number;
  readonly perRule: RuleFigures[];
}

export interface Discovery {
  readonly settings: DiscoverOptions;
  /** Rows read, unreadable rows among them, lines of templates not tracked (past the cap). */
  readonly rows: number;
  readonly unreadable: number;
  readonly untracked: number;
  /** The reason the input was cut short (a limit), when it was. */
  readonly cut?: string;
  readonly templates: DiscoveredTemplate[];
  readonly families: DiscoveredFamily[];
  readonly clusters: number;
  readonly noise: number;
  readonly rules: RegexRule[];
  readonly rejected: RejectedRule[];
  /** Rules over the lines of their own templates (as the miner assigned the lines). */
  readonly coverage: Coverage;
  readonly hasTruth: boolean;
}

interface Tally {
  id: string;
  template: string;
  count: number;
  example: string;
  decision: Decision;
  samples: string[];
  sampleChars: number;
  modelLabels: Map<string, number>;
  truthLabels?: Map<string, number>;
}

/** A row's message and ground truth (when the input has one), carried through runRows as its cells. */
export interface DiscoverCells {
  readonly message: string;
  readonly truth?: string;
}

const bump = (m: Map<string, number>, key: string, n = 1) => m.set(key, (m.get(key) ?? 0) + n);
const record = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));

/** Mines, labels, groups and suggests rules for `input` (rows whose cells are DiscoverCells). */
export async function discover(
  input: AsyncIterable<readonly InputRow<DiscoverCells>[]>,
  pipeline: Pipeline,
  embedder: Embedder,
  limits: RunLimits,
  options: DiscoverOptions = DISCOVER_DEFAULTS,
): Promise<Discovery> {
  const maxTemplates = limits.maxTemplates ?? 10_000;
  const miner = new TemplateMiner({ maxTemplates });
  const tallies = new Map<string, Tally>();
  let rows = 0;
  let unreadable = 0;
  let untracked = 0;
  let cut: string | undefined;
  let hasTruth = false;
  const maxChars = limits.maxMessageChars ?? 10_000;
  for await (const batch of runRows(input, pipeline, { batchSize: limits.batchSize, maxRows: limits.maxRows, maxMessageChars: maxChars, explain: miner })) {
    for (const row of batch) {
      if (!row.cells) {
        cut = row.decision.label;
        continue;
      }
      rows++;
      if (!row.template) {
        unreadable++;
        continue;
      }
      const { id, template, previousIds } = row.template;
      for (const prev of previousIds ?? []) {
        const old = tallies.get(prev);
        if (!old || prev === id) continue;
        tallies.delete(prev);
        const into = tallies.get(id);
        if (!into) tallies.set(id, Object.assign(old, { id, template }));
        else merge(into, old);
      }
      let t = tallies.get(id);
      if (!t) {
        if (tallies.size >= 2 * maxTemplates) {
          untracked++;
          continue;
        }
        t = { id, template, count: 0, example: row.cells.message, decision: row.decision, samples: [], sampleChars: 0, modelLabels: new Map() };
        tallies.set(id, t);
      }
      t.template = template;
      t.count++;
      bump(t.modelLabels, row.decision.label);
      if (row.cells.truth !== undefined) {
        hasTruth = true;
        bump((t.truthLabels ??= new Map()), row.cells.truth);
      }
      if (t.samples.length < SAMPLES_PER_TEMPLATE && (t.samples.length === 0 || t.sampleChars < SAMPLE_CHARS)) {
        const body = pipeline.bodyOf(row.cells.message.slice(0, maxChars));
        if (!t.samples.includes(body)) {
          t.samples.push(body);
          t.sampleChars += body.length;
        }
      }
    }
  }

  const list = [...tallies.values()].sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : 1));
  const families = await group(list.map((t) => t.template), embedder, options);
  const templates: DiscoveredTemplate[] = list.map((t, i) => ({
    id: t.id,
    template: t.template,
    count: t.count,
    label: t.decision.label,
    stage: t.decision.stage,
    confidence: t.decision.confidence,
    family: families.labels[i],
    example: t.example,
    modelLabels: record(t.modelLabels),
    ...(t.truthLabels && { truthLabels: record(t.truthLabels) }),
  }));

  const unclassified = pipeline.unclassifiedLabel;
  const candidates = list
    .filter((t) => t.count >= options.minLines && t.decision.stage !== 'regex' && t.decision.stage !== 'error' && t.decision.label !== unclassified && t.decision.confidence >= options.minConfidence)
    .map((t) => ({ id: t.id, template: t.template, label: t.decision.label, confidence: t.decision.confidence, lines: t.count }));
  const { rules, rejected } = suggestRules(candidates, list.map((t) => ({ id: t.id, samples: t.samples })));

  const byRule = new Map(list.map((t) => [`tpl-${t.id}`, t]));
  const perRule: RuleFigures[] = rules.map((r) => {
    const t = byRule.get(r.id)!;
    const truthLines = t.truthLabels ? [...t.truthLabels.values()].reduce((a, b) => a + b, 0) : undefined;
    return {
      id: r.id,
      label: r.label,
      lines: t.count,
      agreeModel: t.modelLabels.get(r.label) ?? 0,
      ...(hasTruth && { agreeTruth: t.truthLabels?.get(r.label) ?? 0, truthLines: truthLines ?? 0 }),
    };
  });
  return {
    settings: options,
    rows,
    unreadable,
    untracked,
    ...(cut !== undefined && { cut }),
    templates,
    families: familySummaries(templates),
    clusters: families.clusters,
    noise: templates.filter((t) => t.family === NOISE).length,
    rules,
    rejected,
    coverage: coverageOf(rows - unreadable, perRule, hasTruth),
    hasTruth,
  };
}

/** Totals over the rules' figures; `lines`: the lines they are measured against. */
export function coverageOf(lines: number, perRule: RuleFigures[], hasTruth: boolean): Coverage {
  const sum = (f: (r: RuleFigures) => number) => perRule.reduce((a, r) => a + f(r), 0);
  const covered = sum((r) => r.lines);
  return {
    lines,
    covered,
    share: lines ? covered / lines : 0,
    agreeModel: sum((r) => r.agreeModel),
    ...(hasTruth && { agreeTruth: sum((r) => r.agreeTruth ?? 0), truthLines: sum((r) => r.truthLines ?? 0) }),
    perRule,
  };
}

function merge(into: Tally, from: Tally): void {
  into.count += from.count;
  for (const [k, v] of from.modelLabels) bump(into.modelLabels, k, v);
  if (from.truthLabels) for (const [k, v] of from.truthLabels) bump((into.truthLabels ??= new Map()), k, v);
  for (const s of from.samples) {
    if (into.samples.length >= SAMPLES_PER_TEMPLATE) break;
    if (!into.samples.includes(s)) {
      into.samples.push(s);
      into.sampleChars += s.length;
    }
  }
}

/** The text a template is embedded as: its words, without the `<*>`s. */
export const embeddingText = (template: string): string => template.split(WILDCARD).join(' ').replace(/\s+/g, ' ').trim();

const EMBED_CHUNK = 256;

/** DBSCAN over the templates' embeddings (cosine distance). */
async function group(texts: readonly string[], embedder: Embedder, options: DiscoverOptions) {
  const vectors = [];
  for (let i = 0; i < texts.length; i += EMBED_CHUNK) vectors.push(...(await embedder.embed(texts.slice(i, i + EMBED_CHUNK).map(embeddingText))));
  return dbscan(texts.length, cosineNeighbours(vectors, options.eps), options.minSamples);
}

function familySummaries(templates: readonly DiscoveredTemplate[]): DiscoveredFamily[] {
  const by = new Map<number, DiscoveredTemplate[]>();
  for (const t of templates) {
    const members = by.get(t.family);
    if (members) members.push(t);
    else by.set(t.family, [t]);
  }
  return [...by]
    .sort((a, b) => (a[0] === NOISE ? 1 : b[0] === NOISE ? -1 : a[0] - b[0]))
    .map(([family, members]) => {
      const labels = new Map<string, number>();
      for (const t of members) bump(labels, t.label, t.count);
      // Templates come most frequent first: the first is the representative.
      return {
        family,
        templates: members.length,
        lines: members.reduce((a, t) => a + t.count, 0),
        representativeId: members[0].id,
        representative: members[0].template,
        labels: record(labels),
      };
    });
}

/**
 * The suggested rules run over every line of the input (the CLI reads its file a second time):
 * the lines each rule would decide — those no configured rule takes first, as the rules would sit
 * after configs/regex_rules.json — and how many of them the pipeline (and the ground truth, when
 * there is one) gives the rule's label. What `discover` reports from the miner's grouping,
 * measured line by line.
 */
export async function measureRules(
  input: AsyncIterable<readonly InputRow<DiscoverCells>[]>,
  pipeline: Pipeline,
  rules: readonly RegexRule[],
  limits: RunLimits,
): Promise<Coverage & { configured: number }> {
  const compiled = compileRules({ rules }, 'suggested rules');
  const set = new LinearPatternSet(compiled.map((r) => r.regex));
  const figures = rules.map((r) => ({ id: r.id, label: r.label, lines: 0, agreeModel: 0, agreeTruth: 0, truthLines: 0 }));
  const maxChars = limits.maxMessageChars ?? 10_000;
  let lines = 0;
  let configured = 0;
  let hasTruth = false;
  for await (const batch of runRows(input, pipeline, { batchSize: limits.batchSize, maxRows: limits.maxRows, maxMessageChars: maxChars })) {
    for (const row of batch) {
      if (!row.cells || row.decision.stage === 'error') continue;
      lines++;
      if (row.decision.stage === 'regex') {
        configured++;
        continue;
      }
      const k = set.first(pipeline.bodyOf(row.cells.message.slice(0, maxChars)));
      if (k < 0) continue;
      const f = figures[k];
      f.lines++;
      if (row.decision.label === f.label) f.agreeModel++;
      if (row.cells.truth !== undefined) {
        hasTruth = true;
        f.truthLines++;
        if (row.cells.truth === f.label) f.agreeTruth++;
      }
    }
  }
  const perRule: RuleFigures[] = figures.map(({ agreeTruth, truthLines, ...f }) => (hasTruth ? { ...f, agreeTruth, truthLines } : f));
  return { ...coverageOf(lines, perRule, hasTruth), configured };
}
