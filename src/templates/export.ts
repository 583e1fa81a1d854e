/**
 * What users' labels on templates become outside the service:
 * - `rules`: regex rules in configs/regex_rules.json's format, one per overridden template,
 *   checked by the loader the service uses for that file (compileRules: RE2, linear time), so
 *   the answer can be put into the rules file (or appended to it) as it is;
 * - `csv`: each overridden template's example line with its label (source,log_message,
 *   target_label), the labelled-CSV format `logsift train --data` and `logsift eval --augment` read.
 */
import { stringify } from 'csv-stringify/sync';
import { WILDCARD } from '../lines/templates.js';
import { compileRules, type RegexRule } from '../stages/regex.js';
import type { StoredTemplate } from './store.js';

const SPECIAL = /[\\^$.*+?()[\]{}|]/g;

/**
 * An anchored pattern for a template's text, as the regex stage sees a line (its header split
 * off): each constant literally, `<*>` as one or more non-space characters, the space between
 * two tokens as `\s+` (none where the miner saw them glued, `uid=<*>`). Whether a `<*>` stood
 * for one token or several (`bytes <*> sent` for `(1.2 KB)`) is not in the text, so a `<*>`
 * between spaces takes one or more tokens; one glued to a word, the rest of that token.
 */
export function templatePattern(text: string): string {
  const parts = text.split(WILDCARD).map((p) => p.replace(SPECIAL, '\\$&').replace(/\s+/g, '\\s+'));
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) {
      const before = out.endsWith('\\s+') || out === '';
      const after = parts[i].startsWith('\\s+') || parts[i] === '';
      // A free-standing <*> may span several tokens; one glued to a word stays within its token.
      out += before && after ? '\\S+(?:\\s+\\S+)*?' : '\\S+?';
    }
    out += parts[i];
  }
  return `^\\s*${out}\\s*$`;
}

/** Rule ids: `template-<id>`. */
export function rulesFor(templates: readonly StoredTemplate[]): { $comment: string; rules: RegexRule[] } {
  const rules: RegexRule[] = templates
    .filter((t) => t.override)
    .map((t) => ({
      id: `template-${t.id}`,
      pattern: templatePattern(t.text),
      flags: '',
      label: t.override!.label,
      description: `template ${t.id} (${t.count} lines), labelled by ${t.override!.by || 'anonymous'} at ${new Date(t.override!.at).toISOString()}: ${t.text}`.slice(0, 500),
    }));
  const file = {
    $comment: 'Exported from the template store (GET /templates/export?format=rules): one rule per template a user labelled. Same format as configs/regex_rules.json.',
    rules,
  };
  // The service's own loader: a rule it would refuse is a bug here, not the caller's problem.
  compileRules(file, 'template export');
  return file;
}

/** source,log_message,target_label: each labelled template's example line. */
export function examplesCsv(templates: readonly StoredTemplate[]): string {
  const rows = templates.filter((t) => t.override).map((t) => [t.example.source, t.example.message, t.override!.label]);
  return stringify([['source', 'log_message', 'target_label'], ...rows]);
}
