/**
 * What each label means, for the LLM prompt (configs/labels.json): a one-line definition per
 * label and the order in which to choose when two labels fit. Labels without a definition (a
 * custom label set from a user's own training data) are still offered, by name only.
 */
import { z } from 'zod';
import { describeIssue, LabelDefinitionsError } from '../errors.js';

const labelName = z.string().trim().min(1);

export const labelDefinitionsSchema = z.object({
  /** Label → what a line with that label reports, in one short line. */
  definitions: z.record(
    labelName,
    z.string().trim().min(1).max(300, 'keep a definition to one short line (300 characters)').regex(/^[^\r\n]*$/, 'one line, no line breaks'),
  ),
  /** When two labels fit, the first of them in this order is chosen. */
  precedence: z
    .array(labelName)
    .default([])
    .refine((names) => new Set(names.map((n) => n.toLowerCase())).size === names.length, 'a label is listed twice'),
});

export type LabelDefinitions = z.infer<typeof labelDefinitionsSchema>;

export { LabelDefinitionsError } from '../errors.js';

/** Validates label definitions (JSON as in configs/labels.json); throws naming the bad field. */
export function parseLabelDefinitions(json: unknown, source = 'label definitions'): LabelDefinitions {
  const parsed = labelDefinitionsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LabelDefinitionsError(`${source}: ${describeIssue(issue)}`);
  }
  return parsed.data;
}

