/**
 * What a line shares its model decision with, beyond its own prepared line (the pipeline's
 * second-level cache, docs/TEMPLATES.md "Decisions per template").
 *
 * The model stages see a line's level, component and masked message. Lines of one mined
 * template differ only at its `<*>`s, so the head mostly says the same of all of them, and
 * deciding the template once (on its first line) spares a model run per further prepared line.
 * That is only safe where the `<*>`s do not carry what the label depends on, so the key keeps:
 *
 * - the level: the head weighs it, and one template is printed at several levels;
 * - the line's problem words (`failed`, `FAIL_CONTAINER_CLEANUP`, `denied`, `timeout`): the
 *   miner makes a place a parameter once it has seen 3 different words there, and a place where
 *   a state or an outcome is printed (`Transitioned from <*> to <*>`) then holds the very word
 *   that makes a line an error. A line with such a word is decided with the lines that have the
 *   same ones; user names, program names and the like (no problem word) share one decision.
 *   The list errs on the side of too many words: a word too many costs a model run, a word
 *   missing can cost a label. Digits never matter here: masking hides them from the head as it
 *   does from this key (`status=200` and `status=500` are one prepared line), and the rules,
 *   which see them, run on every row before any cache.
 *
 * A template without a constant word (`<*> <*>`: every token held a digit) says nothing of its
 * lines: they are decided by their own prepared line, as without templates.
 */
import type { NamedTemplate } from '../templates/namer.js';
import type { PreparedLine } from '../lines/types.js';

/** Stems (the start of a word, or of a part of a compound: `FAIL_TASK_CLEANUP`, `connectionRefused`). */
const PROBLEM_STEM = /^(?:fail|error|exception|fatal|critical|panic|abort|kill|deni|deny|refus|reject|invalid|illegal|unauthori|forbid|timeout|timedout|lost|corrupt|warn|deprecat|unable|cannot|broke|missing|unknown|violat|exceed|overflow|crash|dead|unreachable|unavailable|wrong|expire|insufficient|exhaust|leak|halt|segfault|interrupt|unexpected|mismatch|incorrect|problem|fault|trouble)/i;
/** Whole parts only: short words that start too many others (`errand`, `download`, `badge`). */
const PROBLEM_WORD = /^(?:err|crit|down|bad|oom|nok|ko)$/i;
/** Parts of a word: split at anything but a letter, and between a lower-case letter and an upper-case one. */
const WORD_PARTS = /[^A-Za-z]+|(?<=[a-z])(?=[A-Z])/;
const HAS_LETTERS = /[A-Za-z]{2}/;
const WILDCARDS = /<\*>/g;

/** Whether a word names a problem or an outcome (see the module comment). */
export function isProblemWord(word: string): boolean {
  if (!HAS_LETTERS.test(word)) return false;
  for (const part of word.split(WORD_PARTS)) {
    if (part.length > 1 && (PROBLEM_STEM.test(part) || PROBLEM_WORD.test(part))) return true;
  }
  return false;
}

/** The problem words of a message, in order, space-separated ('' for none). */
export function problemWords(message: string): string {
  let out = '';
  for (const word of message.split(' ')) if (isProblemWord(word)) out = out ? `${out} ${word}` : word;
  return out;
}

/** The template has a constant word (a token with two letters in a row, outside its `<*>`s). */
export function hasConstantWord(templateText: string): boolean {
  for (const token of templateText.split(' ')) if (HAS_LETTERS.test(token.replace(WILDCARDS, ' '))) return true;
  return false;
}

/**
 * The key of the decision the line shares with the other lines of its template, or undefined
 * when it shares none (a template without a constant word): the line is then decided by its
 * own prepared line alone.
 */
export function templateDecisionKey(template: NamedTemplate, line: PreparedLine): string | undefined {
  if (!hasConstantWord(template.text)) return undefined;
  return `${line.level ?? ''}\u0000${template.id}\u0000${problemWords(line.text)}`;
}
