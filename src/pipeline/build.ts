/**
 * Builds the pipeline from configuration: the one module that reads the pipeline's files (regex
 * rules, mask rules, header patterns, label definitions, the head) and hands their parsed JSON to
 * each module's zod schema. Errors name the file; every one has status 422 (src/errors.ts), so a
 * reload that meets one answers RELOAD_INVALID.
 */
import type { Config } from '../config/index.js';
import { headPath, resolvePath } from '../config/index.js';
import { readJsonFile } from '../config/json-file.js';
import { createEmbedder, type EmbedderKind } from '../embedding/index.js';
import { MicroBatchingEmbedder } from '../embedding/micro-batcher.js';
import type { Embedder } from '../embedding/types.js';
import { HeaderPatternError, LabelDefinitionsError, MaskRuleError, RuleError } from '../errors.js';
import { LineFeaturizer } from '../lines/features.js';
import { compileHeaderPatterns, HeaderParser, type HeaderPattern } from '../lines/header.js';
import { compileMasker, compileMaskRules, type MaskRule } from '../lines/masking.js';
import { LinePreparer } from '../lines/prepare.js';
import { createLlmClient } from '../llm/client.js';
import { onnxHeadStatus } from '../models/head-status.js';
import { loadHead, type LoadedHead } from '../models/head.js';
import { transformerInstalled } from '../models/fetch.js';
import { EmbeddingStage } from '../stages/embedding.js';
import { parseLabelDefinitions, type LabelDefinitions } from '../stages/label-definitions.js';
import { LlmStage } from '../stages/llm.js';
import { compileRules, RegexStage, type CompiledRule } from '../stages/regex.js';
import type { Stage } from '../stages/types.js';
import type { PipelineObserver } from './observer.js';
import { TemplateNamer } from '../templates/namer.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';

/** What was loaded, for /readyz, logs and metrics. */
export interface PipelineInfo {
  readonly embedder: { kind: EmbedderKind; fingerprint: string; reason: string };
  readonly head: { path: string; labels: readonly string[]; trainedOn?: unknown };
  readonly rules: number;
  /** Header formats, in order. */
  readonly headerPatterns: readonly string[];
  /** Cache-key masking rules, in order. */
  readonly maskRules: readonly string[];
  /** Every label a stage can produce (head and rules), besides the unclassified label. */
  readonly labels: readonly string[];
  readonly llmSources: readonly string[];
  readonly unclassifiedLabel: string;
  readonly llm: { enabled: boolean; model?: string };
  readonly loadMs: number;
}

/** A pipeline and what it was built from. Its stages and LLM client stay inside it. */
export interface BuiltPipeline {
  readonly pipeline: Pipeline;
  readonly info: PipelineInfo;
  /** The embedding stage's embedder (closed with the pipeline): `discover` groups templates with it. */
  readonly embedder: Embedder;
}

// ---- The pipeline's files ----

/** Reads and compiles an ordered regex rules file (configs/regex_rules.json). */
export async function readRules(path: string): Promise<CompiledRule[]> {
  return compileRules(await readJsonFile(path, (m) => new RuleError(m), `regex rules file not found: ${path}`), path);
}

/** Reads and compiles a mask rules file (configs/mask_rules.json). */
export async function readMaskRules(path: string): Promise<MaskRule[]> {
  return compileMaskRules(await readJsonFile(path, (m) => new MaskRuleError(m), `mask rules file not found: ${path}`), path);
}

/** Reads and compiles a header patterns file (configs/header_patterns.json). */
export async function readHeaderPatterns(path: string): Promise<HeaderPattern[]> {
  return compileHeaderPatterns(await readJsonFile(path, (m) => new HeaderPatternError(m), `header patterns file not found: ${path}`), path);
}

/** Reads and validates a label definitions file (configs/labels.json). */
export async function readLabelDefinitions(path: string): Promise<LabelDefinitions> {
  return parseLabelDefinitions(await readJsonFile(path, (m) => new LabelDefinitionsError(m), `label definitions file not found: ${path}`), path);
}

/**
 * Chooses the embedder for `auto`: the transformer when its files and a head trained for it
 * are installed, otherwise `lexical`, so the service always starts.
 */
export async function chooseEmbedder(config: Config): Promise<{ kind: EmbedderKind; reason: string }> {
  if (config.embedder.kind !== 'auto') return { kind: config.embedder.kind, reason: 'configured' };
  const modelDir = resolvePath(config.embedder.modelDir);
  if (!(await transformerInstalled(modelDir, config.embedder.modelFile))) {
    return { kind: 'lexical', reason: `no transformer model at ${modelDir} (run \`npm run models\`)` };
  }
  // A head trained for another model, prompt or setting would be refused at start-up.
  const head = await onnxHeadStatus(config);
  if (head.state !== 'ready') return { kind: 'lexical', reason: head.message };
  return { kind: 'onnx', reason: 'transformer model and head installed' };
}

/** Header parsing and masking as configured (the service, training and evaluation share it). */
export async function createPreparer(config: Config): Promise<LinePreparer> {
  const [headerPatterns, maskRules] = await Promise.all([
    readHeaderPatterns(resolvePath(config.pipeline.headerPatternsPath)),
    readMaskRules(resolvePath(config.pipeline.maskRulesPath)),
  ]);
  return preparerOf(headerPatterns, maskRules, config);
}

function preparerOf(headerPatterns: readonly HeaderPattern[], maskRules: readonly MaskRule[], config: Config): LinePreparer {
  return new LinePreparer(new HeaderParser(headerPatterns), compileMasker(maskRules), { maxChars: config.server.maxMessageChars });
}

/** The head's features for the named embedder, as configured. */
export async function createFeaturizer(kind: EmbedderKind, config: Config): Promise<LineFeaturizer> {
  return new LineFeaturizer(await createEmbedder(kind, config), await createPreparer(config));
}

export interface BuildOverrides {
  /** Use this head instead of the one in config.head.dir (evaluation of a freshly trained head). */
  readonly head?: { head: LoadedHead; path: string };
  /** Keep only these stages (evaluating one stage alone). */
  readonly stages?: readonly Stage<never>['name'][];
  /** Told about stage calls, cache hits, LLM calls and answers (the server's metrics). */
  readonly observer?: PipelineObserver;
  /** Another template key (PipelineOptions.templateKey; bench/template-cache.ts only). */
  readonly templateKey?: PipelineOptions['templateKey'];
}

/** Loads rules, embedder, head and LLM client from configuration and composes the stages. */
export async function buildPipeline(config: Config, overrides: BuildOverrides = {}): Promise<BuiltPipeline> {
  const started = performance.now();
  const { observer } = overrides;
  const { kind, reason } = overrides.head
    ? { kind: overrides.head.head.embedderKind, reason: 'head given' }
    : await chooseEmbedder(config);
  const path = overrides.head?.path ?? headPath(config, kind);
  const [rules, head, maskRules, headerPatterns, labelDefinitions] = await Promise.all([
    readRules(resolvePath(config.regex.rulesPath)),
    overrides.head?.head ?? loadHead(path),
    readMaskRules(resolvePath(config.pipeline.maskRulesPath)),
    readHeaderPatterns(resolvePath(config.pipeline.headerPatternsPath)),
    readLabelDefinitions(resolvePath(config.pipeline.labelsPath)),
  ]);
  const preparer = preparerOf(headerPatterns, maskRules, config);
  const created = await createEmbedder(kind, config);
  // The lexical embedder costs microseconds a line: a batching window would only add latency.
  const { batchWindowMs, batchSize } = config.embedder;
  const embedder =
    kind === 'onnx' && batchWindowMs > 0 ? new MicroBatchingEmbedder(created, { windowMs: batchWindowMs, maxBatch: batchSize * 8 }) : created;
  const features = new LineFeaturizer(embedder, preparer);
  const regexStage = new RegexStage(rules);
  let embeddingStage: EmbeddingStage;
  try {
    embeddingStage = new EmbeddingStage(features, head, config.pipeline.confidenceThreshold, config.pipeline.unclassifiedLabel);
  } catch (err) {
    await features.close();
    throw err;
  }
  const llmClient = createLlmClient(config.llm, { observer });
  // The LLM may answer with any label the service knows: the head's and the rules'.
  const labels = [...new Set([...head.labels, ...regexStage.labels])];
  const llmStage = new LlmStage({
    client: llmClient,
    labels,
    labelDefinitions,
    unclassifiedLabel: config.pipeline.unclassifiedLabel,
    confidence: config.llm.confidence,
    cacheSize: config.llm.cacheSize,
    observer,
  });
  const keep = (name: Stage<never>['name']): boolean => !overrides.stages || overrides.stages.includes(name);
  const modelStages: Stage[] = [embeddingStage, llmStage].filter((s) => keep(s.name));
  const llmUsed = llmClient !== null && keep('llm');
  // With no LLM, routing a source straight to it would only turn its lines into Unclassified.
  const llmSources = llmUsed ? config.pipeline.llmSources : [];
  const pipeline = new Pipeline({
    rowStages: keep('regex') ? [regexStage] : [],
    stages: modelStages,
    // With no LLM to ask, a fallback is as final as any other decision.
    cacheFallbacks: !llmUsed,
    llmSources,
    unclassifiedLabel: config.pipeline.unclassifiedLabel,
    cacheSize: config.pipeline.cacheSize,
    preparer,
    observer,
    // Its own namer names templates only where no tracker does (the store off, evaluation, jobs).
    templateNamer: config.pipeline.templateDecisions ? new TemplateNamer({ maxTemplates: config.templates.minerMaxTemplates }) : undefined,
    templateKey: overrides.templateKey,
  });
  return {
    pipeline,
    embedder,
    info: {
      embedder: { kind, fingerprint: features.fingerprint, reason },
      head: { path, labels: head.labels, trainedOn: head.training?.dataSha256 },
      rules: rules.length,
      headerPatterns: headerPatterns.map((p) => p.name),
      maskRules: maskRules.map((r) => r.name),
      labels,
      llmSources,
      unclassifiedLabel: config.pipeline.unclassifiedLabel,
      llm: { enabled: llmClient !== null, model: llmClient ? config.llm.model : undefined },
      loadMs: Math.round(performance.now() - started),
    },
  };
}
