import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config/index.js';
import { resolvePath } from '../config/index.js';
import { openCsv, recordRows } from '../csv/reader.js';
import { DISCOVER_DEFAULTS, discover, measureRules, type DiscoverCells, type DiscoverOptions } from '../discovery/discover.js';
import { familiesCsv, reportMarkdown, suggestedRulesJson, templatesCsv } from '../discovery/report.js';
import type { InputRow } from '../pipeline/run.js';
import { truthColumn } from '../discovery/truth.js';
import { buildPipeline } from '../pipeline/build.js';

export const DISCOVER_USAGE = `usage: logsift discover --data FILE.csv [--out DIR] [options]

  Mines the templates of FILE (columns source and log_message or message; a target_label column,
  when there is one, is the ground truth the report scores the rules against), groups them into
  families (DBSCAN over their embeddings, cosine distance), labels each with the pipeline and
  suggests regex rules for the frequent ones. Writes templates.csv, families.csv,
  suggested_rules.json and report.md to DIR (default reports/discover-<file>).

  --eps ${DISCOVER_DEFAULTS.eps}                 DBSCAN radius (cosine distance)
  --min-samples ${DISCOVER_DEFAULTS.minSamples}            DBSCAN: templates within eps, itself included, that make a core
  --min-lines ${DISCOVER_DEFAULTS.minLines}             lines a template needs for a rule
  --min-confidence ${DISCOVER_DEFAULTS.minConfidence}      pipeline confidence a template's label needs for a rule`;

/** The options as numbers, checked; flag names as the CLI spells them. */
export function discoverOptions(raw: Partial<Record<'eps' | 'min-samples' | 'min-lines' | 'min-confidence', string | undefined>>): DiscoverOptions {
  const read = (flag: keyof typeof raw, fallback: number, ok: (n: number) => boolean, what: string): number => {
    const value = raw[flag];
    if (value === undefined) return fallback;
    const n = Number(value);
    if (value.trim() === '' || !ok(n)) throw new Error(`--${flag} must be ${what}, got ${value}`);
    return n;
  };
  return {
    eps: read('eps', DISCOVER_DEFAULTS.eps, (n) => n >= 0 && n <= 2, 'a cosine distance between 0 and 2'),
    minSamples: read('min-samples', DISCOVER_DEFAULTS.minSamples, (n) => Number.isInteger(n) && n >= 1, 'a positive integer'),
    minLines: read('min-lines', DISCOVER_DEFAULTS.minLines, (n) => Number.isInteger(n) && n >= 1, 'a positive integer'),
    minConfidence: read('min-confidence', DISCOVER_DEFAULTS.minConfidence, (n) => n >= 0 && n <= 1, 'between 0 and 1'),
  };
}

/** The file's rows, their cells the message and the ground truth (target_label or label, when present). */
async function* fileRows(path: string, config: Config): AsyncGenerator<InputRow<DiscoverCells>[]> {
  const csv = await openCsv(createReadStream(path), { maxRecordBytes: config.server.maxRecordBytes, maxColumns: config.server.maxColumns });
  const truthAt = truthColumn(csv.header);
  for await (const run of recordRows(csv)) {
    yield run.map((row) => ({
      line: row.line,
      cells: { message: row.record?.message ?? '', ...(truthAt >= 0 && row.record && { truth: (row.cells[truthAt] ?? '').trim() }) },
      ...(row.record && { record: row.record }),
      ...(row.error !== undefined && { error: row.error }),
    }));
  }
}

export async function discoverCommand(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      eps: { type: 'string' },
      'min-samples': { type: 'string' },
      'min-lines': { type: 'string' },
      'min-confidence': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.data) {
    console.error(DISCOVER_USAGE);
    return values.help ? 0 : 2;
  }
  const options = discoverOptions(values);
  const dataPath = resolve(values.data);
  const outDir = values.out ? resolve(values.out) : resolvePath(`reports/discover-${basename(dataPath, '.csv')}`);
  const started = performance.now();
  const built = await buildPipeline(config);
  try {
    const limits = { batchSize: config.pipeline.batchSize, maxMessageChars: config.server.maxMessageChars, maxTemplates: config.pipeline.explainMaxTemplates };
    const result = await discover(fileRows(dataPath, config), built.pipeline, built.embedder, limits, options);
    // Second pass: the suggested rules over every line of the file.
    const measured = await measureRules(fileRows(dataPath, config), built.pipeline, result.rules, limits);
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'templates.csv'), templatesCsv(result));
    await writeFile(join(outDir, 'families.csv'), familiesCsv(result));
    await writeFile(join(outDir, 'suggested_rules.json'), suggestedRulesJson(result));
    await writeFile(join(outDir, 'report.md'), reportMarkdown(result, basename(dataPath), built.info.embedder.kind, measured));
    const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '–');
    console.log(
      `${result.rows} rows, ${result.templates.length} templates, ${result.clusters} families${result.noise ? ` (+${result.noise} noise templates)` : ''}, ` +
        `${result.rules.length} rules suggested (${result.rejected.length} rejected): they take ${measured.covered} lines (${pct(measured.covered, measured.lines)}), ` +
        `model agreement ${pct(measured.agreeModel, measured.covered)}${measured.truthLines !== undefined ? `, ground truth ${pct(measured.agreeTruth ?? 0, measured.truthLines)}` : ''} ` +
        `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
    console.log(`wrote ${outDir}/{templates.csv,families.csv,suggested_rules.json,report.md}`);
    return 0;
  } finally {
    await built.pipeline.close();
  }
}
