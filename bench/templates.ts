/**
 * Template mining against Loghub's ground truth (the 2k samples: every line's true template),
 * per system: templates found against the truth, grouping accuracy (GA: the share of lines
 * whose mined group is exactly the set of lines of their true template, as in the Loghub
 * benchmark papers) for
 *   - logsift's miner (src/lines/templates.ts), default configuration, the same for every system;
 *     GA of its final templates, FGA (F1 of groups) and PA (parsing accuracy: lines whose template
 *     text is exactly their true template's, Loghub 2.0's measures), and "online" GA of the ids as they were handed out line by line
 *     (a template that generalised later handed its first lines an id it no longer has);
 *   - a plain Drain baseline written here (depth 4, similarity 0.5, max 100 children, the
 *     Loghub benchmark's usual masks: block ids, IPv4 with port, hex, numbers), same run;
 *   - today's decision-cache key (the prepared line: level, component, masked message): how many
 *     distinct keys the lines give, and its GA taken as a grouping.
 * Both miners get the same message: what configs/header_patterns.json leaves of the raw line.
 *
 *   npx tsx bench/templates.ts [--data ../shared/data/loghub-2k-dev] [--json FILE]
 */
import { readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { PROJECT_ROOT, loadConfig } from '../src/config/index.js';
import { createPreparer, readHeaderPatterns } from '../src/pipeline/build.js';
import { HeaderParser } from '../src/lines/header.js';
import { TemplateMiner } from '../src/lines/templates.js';

// ---- Drain (He et al., ICWS 2017), as logpai's reference implementation runs it ----

const DRAIN_MASKS = [/blk_-?\d+/g, /(\d+\.){3}\d+(:\d+)?/g, /\b0[xX][0-9a-fA-F]+\b/g, /(?<=[^A-Za-z0-9]|^)(-?\+?\d+)(?=[^A-Za-z0-9]|$)/g];
const HAS_DIGIT = /\d/;

interface DrainCluster {
  template: string[];
  readonly id: number;
}
interface DrainNode {
  readonly children: Map<string, DrainNode>;
  clusters: DrainCluster[];
}

export class Drain {
  private readonly root: DrainNode = { children: new Map(), clusters: [] };
  private next = 0;
  constructor(
    private readonly depth = 4,
    private readonly similarity = 0.5,
    private readonly maxChildren = 100,
  ) {}

  /** The cluster the message joins (its id), after Drain's preprocessing. */
  add(message: string): DrainCluster {
    let content = message;
    for (const mask of DRAIN_MASKS) content = content.replace(mask, '<*>');
    const tokens = content.trim().split(/\s+/).filter(Boolean);
    const match = this.search(tokens);
    if (match) {
      match.template = match.template.map((t, i) => (t === tokens[i] ? t : '<*>'));
      return match;
    }
    const cluster = { template: tokens, id: this.next++ };
    this.insert(cluster);
    return cluster;
  }

  private search(tokens: string[]): DrainCluster | undefined {
    const byLength = this.root.children.get(String(tokens.length));
    if (!byLength) return undefined;
    let node = byLength;
    let depth = 1;
    for (const token of tokens) {
      if (depth >= this.depth - 1 || depth > tokens.length) break;
      const child = node.children.get(token) ?? node.children.get('<*>');
      if (!child) return undefined;
      node = child;
      depth++;
    }
    let best: DrainCluster | undefined;
    let bestSim = -1;
    let bestParams = -1;
    for (const cluster of node.clusters) {
      let same = 0;
      let params = 0;
      cluster.template.forEach((t, i) => {
        if (t === '<*>') params++;
        else if (t === tokens[i]) same++;
      });
      const sim = same / tokens.length;
      if (sim > bestSim || (sim === bestSim && params > bestParams)) {
        best = cluster;
        bestSim = sim;
        bestParams = params;
      }
    }
    return bestSim >= this.similarity ? best : undefined;
  }

  private insert(cluster: DrainCluster): void {
    const tokens = cluster.template;
    const length = String(tokens.length);
    let node: DrainNode = this.root.children.get(length) ?? this.child(this.root, length);
    let depth = 1;
    for (const token of tokens) {
      if (depth >= this.depth - 1 || depth > tokens.length) break;
      let child: DrainNode | undefined = node.children.get(token);
      if (!child) {
        const wild = node.children.get('<*>');
        if (HAS_DIGIT.test(token)) child = wild ?? this.child(node, '<*>');
        else if (wild) child = node.children.size < this.maxChildren ? this.child(node, token) : wild;
        else child = node.children.size + 1 < this.maxChildren ? this.child(node, token) : node.children.size + 1 === this.maxChildren ? this.child(node, '<*>') : [...node.children.values()].pop()!;
      }
      node = child;
      depth++;
    }
    node.clusters.push(cluster);
  }

  private child(node: DrainNode, token: string): DrainNode {
    const child: DrainNode = { children: new Map(), clusters: [] };
    node.children.set(token, child);
    return child;
  }
}

const TIMED_PASSES = 5;

/** Median milliseconds of TIMED_PASSES runs (the first ones pay for the JIT). */
function timed(run: () => void): number {
  const ms: number[] = [];
  for (let i = 0; i < TIMED_PASSES; i++) {
    const started = performance.now();
    run();
    ms.push(performance.now() - started);
  }
  return ms.sort((a, b) => a - b)[TIMED_PASSES >> 1];
}

// ---- Scoring ----

/**
 * The predicted groups scored against the truth: a group is right when it holds exactly the lines
 * of one true template.
 */
function exactGroups(predicted: readonly (string | number)[], truth: readonly string[]): { groups: number; templates: number; rightGroups: number; rightLines: number } {
  const truthSize = new Map<string, number>();
  for (const t of truth) truthSize.set(t, (truthSize.get(t) ?? 0) + 1);
  const groups = new Map<string | number, number[]>();
  predicted.forEach((p, i) => {
    const g = groups.get(p);
    if (g) g.push(i);
    else groups.set(p, [i]);
  });
  let rightGroups = 0;
  let rightLines = 0;
  for (const lines of groups.values()) {
    const first = truth[lines[0]];
    if (lines.every((i) => truth[i] === first) && truthSize.get(first) === lines.length) {
      rightGroups++;
      rightLines += lines.length;
    }
  }
  return { groups: groups.size, templates: truthSize.size, rightGroups, rightLines };
}

/** Grouping accuracy: lines whose predicted group holds exactly the lines of their true group. */
export function groupingAccuracy(predicted: readonly (string | number)[], truth: readonly string[]): number {
  return exactGroups(predicted, truth).rightLines / truth.length;
}

/** F1 of groups (FGA, Loghub 2.0): precision over predicted groups, recall over true templates. */
export function groupingF1(predicted: readonly (string | number)[], truth: readonly string[]): number {
  const { groups, templates, rightGroups } = exactGroups(predicted, truth);
  const precision = rightGroups / groups;
  const recall = rightGroups / templates;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/** Template text compared as Loghub's PA does: runs of `<*>` and of whitespace collapsed. */
export function normaliseTemplate(text: string): string {
  return text.replace(/<\*>(?:\s*<\*>)+/g, '<*>').replace(/\s+/g, ' ').trim();
}

/** Parsing accuracy (PA): lines whose template text is exactly their true template's. */
export function parsingAccuracy(predicted: readonly string[], truth: readonly string[]): number {
  let right = 0;
  predicted.forEach((p, i) => {
    if (normaliseTemplate(p) === normaliseTemplate(truth[i])) right++;
  });
  return right / truth.length;
}

interface SystemResult {
  system: string;
  lines: number;
  truthTemplates: number;
  miner: { templates: number; ga: number; fga: number; pa: number; onlineGa: number; onlineIds: number; msPerKLines: number };
  drain: { templates: number; ga: number; msPerKLines: number };
  cacheKeys: { keys: number; ga: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string' }, json: { type: 'string' } } });
  const shared = [resolve(PROJECT_ROOT, '../shared'), resolve(PROJECT_ROOT, '../../shared')].find((d) => existsSync(d)) ?? resolve(PROJECT_ROOT, '../shared');
  const dataDir = resolve(values.data ?? join(shared, 'data/loghub-2k-dev'));
  const systems = readdirSync(dataDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dataDir, d.name, `${d.name}_2k.log_structured.csv`)))
    .map((d) => d.name)
    .sort();
  const config = loadConfig();
  const parser = new HeaderParser(await readHeaderPatterns(resolve(PROJECT_ROOT, config.pipeline.headerPatternsPath)));
  const results: SystemResult[] = [];

  for (const system of systems) {
    const raw = readFileSync(join(dataDir, system, `${system}_2k.log`), 'utf8').split(/\r?\n/);
    while (raw.length && raw[raw.length - 1] === '') raw.pop();
    const structured = parse(readFileSync(join(dataDir, system, `${system}_2k.log_structured.csv`)), { columns: true, bom: true }) as { EventId: string; EventTemplate: string }[];
    if (structured.length !== raw.length) throw new Error(`${system}: ${raw.length} lines but ${structured.length} structured rows`);
    const truth = structured.map((r) => r.EventId);
    const messages = raw.map((line) => parser.parse(line).message);

    // The miner: ids as handed out, and each line's final template (following generalisations).
    const minerMs = timed(() => {
      const m = new TemplateMiner();
      for (const x of messages) m.add(x);
    });
    const drainMs = timed(() => {
      const d = new Drain();
      for (const x of messages) d.add(x);
    });
    const miner = new TemplateMiner();
    const handedOut: string[] = [];
    const renamed = new Map<string, string>();
    const textOf = new Map<string, string>();
    for (const m of messages) {
      const r = miner.add(m);
      for (const old of r.previousIds ?? []) if (old !== r.id) renamed.set(old, r.id);
      textOf.set(r.id, r.template);
      handedOut.push(r.id);
    }
    const final = handedOut.map((id) => {
      const seen = new Set<string>();
      while (renamed.has(id) && !seen.has(id)) {
        seen.add(id);
        id = renamed.get(id)!;
      }
      return id;
    });

    const drain = new Drain();
    const clusters = messages.map((m) => drain.add(m));

    // Today's cache key: a fresh preparer per system, as a fresh process would have.
    const preparer = await createPreparer(config);
    const keys = raw.map((line) => preparer.prepare(line).text);

    results.push({
      system,
      lines: raw.length,
      truthTemplates: new Set(truth).size,
      miner: {
        templates: new Set(final).size,
        ga: groupingAccuracy(final, truth),
        fga: groupingF1(final, truth),
        pa: parsingAccuracy(final.map((id) => textOf.get(id) ?? ''), structured.map((r) => r.EventTemplate)),
        onlineGa: groupingAccuracy(handedOut, truth),
        onlineIds: new Set(handedOut).size,
        msPerKLines: (minerMs / raw.length) * 1000,
      },
      drain: { templates: new Set(clusters.map((c) => c.id)).size, ga: groupingAccuracy(clusters.map((c) => c.id), truth), msPerKLines: (drainMs / raw.length) * 1000 },
      cacheKeys: { keys: new Set(keys).size, ga: groupingAccuracy(keys, truth) },
    });
  }

  const f3 = (x: number) => x.toFixed(3);
  const rows = results.map((r) => [r.system, r.truthTemplates, r.miner.templates, f3(r.miner.ga), f3(r.miner.fga), f3(r.miner.pa), f3(r.miner.onlineGa), r.drain.templates, f3(r.drain.ga), r.cacheKeys.keys, f3(r.cacheKeys.ga)]);
  const sum = (f: (r: SystemResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const mean = (f: (r: SystemResult) => number) => sum(f) / results.length;
  rows.push([
    'all (sum / mean)',
    sum((r) => r.truthTemplates),
    sum((r) => r.miner.templates),
    f3(mean((r) => r.miner.ga)),
    f3(mean((r) => r.miner.fga)),
    f3(mean((r) => r.miner.pa)),
    f3(mean((r) => r.miner.onlineGa)),
    sum((r) => r.drain.templates),
    f3(mean((r) => r.drain.ga)),
    sum((r) => r.cacheKeys.keys),
    f3(mean((r) => r.cacheKeys.ga)),
  ]);
  const header = ['system', 'true templates', 'miner templates', 'miner GA', 'miner FGA', 'miner PA', 'miner online GA', 'Drain templates', 'Drain GA', 'cache keys', 'cache-key GA'];
  console.log(`data: ${dataDir}`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log(`\nmining time per 1,000 lines: miner ${f3(mean((r) => r.miner.msPerKLines))} ms, Drain ${f3(mean((r) => r.drain.msPerKLines))} ms (mean over systems; each the median of ${TIMED_PASSES} passes, a fresh miner each)`);
  if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
