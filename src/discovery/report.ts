/** What `logsift discover` writes: templates.csv, families.csv, suggested_rules.json, report.md. */
import { stringify } from 'csv-stringify/sync';
import type { Coverage, Discovery } from './discover.js';

export const TEMPLATE_COLUMNS = ['id', 'template', 'count', 'label', 'stage', 'confidence', 'family', 'example'] as const;
export const FAMILY_COLUMNS = ['family', 'templates', 'lines', 'representative_id', 'representative', 'labels'] as const;

const labelList = (labels: Record<string, number>): string =>
  Object.entries(labels)
    .map(([l, n]) => `${l}: ${n}`)
    .join('; ');

export function templatesCsv(d: Discovery): string {
  return stringify([
    [...TEMPLATE_COLUMNS],
    ...d.templates.map((t) => [t.id, t.template, t.count, t.label, t.stage, round(t.confidence), t.family, t.example]),
  ]);
}

export function familiesCsv(d: Discovery): string {
  return stringify([[...FAMILY_COLUMNS], ...d.families.map((f) => [f.family, f.templates, f.lines, f.representativeId, f.representative, labelList(f.labels)])]);
}

/** In the format of configs/regex_rules.json: append the rules you keep there. */
export function suggestedRulesJson(d: Discovery): string {
  return `${JSON.stringify(
    {
      $comment:
        'Suggested by `logsift discover`: one rule per frequent template the pipeline labels with confidence >= ' +
        `${d.settings.minConfidence} (and at least ${d.settings.minLines} lines), anchored, each <*> a bounded class. ` +
        'Each was loaded by the service\'s rules loader, matched its template\'s sampled lines and no other template\'s. ' +
        'Review them, then append the ones you keep to configs/regex_rules.json (after the existing rules).',
      rules: d.rules,
    },
    null,
    2,
  )}\n`;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '–');
const num = (n: number) => n.toLocaleString('en-US');

function coverageTable(c: Coverage, truth: boolean): string[] {
  const out = [
    `| rule | label | lines | agrees with the model | ${truth ? 'agrees with the ground truth |' : ''}`,
    `|---|---|---:|---:|${truth ? '---:|' : ''}`,
  ];
  for (const r of c.perRule) {
    out.push(`| \`${r.id}\` | ${r.label} | ${num(r.lines)} | ${num(r.agreeModel)} (${pct(r.agreeModel, r.lines)}) |${truth ? ` ${num(r.agreeTruth ?? 0)} (${pct(r.agreeTruth ?? 0, r.truthLines ?? 0)}) |` : ''}`);
  }
  out.push(`| **all** | | **${num(c.covered)}** | **${num(c.agreeModel)} (${pct(c.agreeModel, c.covered)})** |${truth ? ` **${num(c.agreeTruth ?? 0)} (${pct(c.agreeTruth ?? 0, c.truthLines ?? 0)})** |` : ''}`);
  return out;
}

/** report.md; `measured`: the rules run over every line (measureRules), when the caller did. */
export function reportMarkdown(d: Discovery, input: string, embedder: string, measured?: Coverage & { configured: number }): string {
  const s = d.settings;
  const truth = d.hasTruth;
  const lines = [
    `# Template discovery: ${input}`,
    '',
    `${num(d.rows)} rows (${num(d.unreadable)} unreadable${d.untracked ? `, ${num(d.untracked)} in templates past the cap, not tracked` : ''})${d.cut ? `; input cut: ${d.cut}` : ''}.`,
    `**${num(d.templates.length)} templates** in **${num(d.clusters)} families**${d.noise ? ` and ${num(d.noise)} templates in none (noise)` : ''} — DBSCAN over the templates' ${embedder} embeddings, cosine distance, eps ${s.eps}, min_samples ${s.minSamples}.`,
    '',
    `**${d.rules.length} rules suggested** (templates of at least ${s.minLines} lines whose example line the pipeline labels with confidence ≥ ${s.minConfidence}, not already decided by a configured rule); ${d.rejected.length} rejected.`,
    '',
    '## Coverage and agreement',
    '',
  ];
  if (measured) {
    lines.push(
      `Measured line by line (the rules after configs/regex_rules.json, every line of the file): the configured rules take ${num(measured.configured)} lines (${pct(measured.configured, measured.lines)}); ` +
        `the suggested rules take **${num(measured.covered)} of ${num(measured.lines)} lines (${pct(measured.covered, measured.lines)})**, ` +
        `of which the model labels ${pct(measured.agreeModel, measured.covered)} the same${truth ? ` and the ground truth (target_label) agrees on ${pct(measured.agreeTruth ?? 0, measured.truthLines ?? 0)}` : ''}.`,
      '',
      ...coverageTable(measured, truth),
      '',
      `By the miner's grouping (each rule over the lines of its own template): ${num(d.coverage.covered)} lines (${pct(d.coverage.covered, d.coverage.lines)}), model agreement ${pct(d.coverage.agreeModel, d.coverage.covered)}${truth ? `, ground truth ${pct(d.coverage.agreeTruth ?? 0, d.coverage.truthLines ?? 0)}` : ''}.`,
    );
  } else {
    lines.push(
      `Each rule over the lines of its own template: **${num(d.coverage.covered)} of ${num(d.coverage.lines)} lines (${pct(d.coverage.covered, d.coverage.lines)})**, model agreement ${pct(d.coverage.agreeModel, d.coverage.covered)}${truth ? `, ground truth ${pct(d.coverage.agreeTruth ?? 0, d.coverage.truthLines ?? 0)}` : ''}.`,
      '',
      ...coverageTable(d.coverage, truth),
    );
  }
  if (d.rejected.length) {
    lines.push('', '## Rejected', '', '| template | why |', '|---|---|');
    for (const r of d.rejected) lines.push(`| \`${r.template.replace(/\|/g, '\\|').slice(0, 120)}\` | ${r.reason.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 300)} |`);
  }
  lines.push('', '## Largest families', '', '| family | templates | lines | representative | labels (lines) |', '|---:|---:|---:|---|---|');
  for (const f of d.families.slice(0, 20)) lines.push(`| ${f.family} | ${f.templates} | ${num(f.lines)} | \`${f.representative.replace(/\|/g, '\\|').slice(0, 100)}\` | ${labelList(f.labels)} |`);
  return `${lines.join('\n')}\n`;
}
