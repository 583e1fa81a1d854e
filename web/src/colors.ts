/**
 * Stable, colour-blind-safe colours. Labels take Paul Tol's "muted" scheme (designed to stay
 * distinct under the common colour-vision deficiencies): the default labels have fixed colours,
 * any other label a colour from its name's hash, so a label keeps its colour between runs and
 * pages. Stages take the Okabe–Ito palette. Badges always show the label's text too, and their
 * text colour is whichever of black and white contrasts more (WCAG 2 ratio ≥ 4.5 for all of these).
 */

export const MUTED = ['#332288', '#88CCEE', '#44AA99', '#117733', '#999933', '#DDCC77', '#CC6677', '#882255', '#AA4499'];
const GREY = '#DDDDDD';
export const ERROR_KEY = 'error';

const FIXED: Record<string, string> = {
  'HTTP Status': '#88CCEE',
  'Security Alert': '#CC6677',
  'Critical Error': '#882255',
  Error: '#AA4499',
  'Resource Usage': '#DDCC77',
  'User Action': '#117733',
  'System Notification': '#44AA99',
  'Workflow Error': '#332288',
  'Deprecation Warning': '#999933',
  Unclassified: GREY,
  [ERROR_KEY]: '#444444',
};

const STAGES: Record<string, string> = {
  regex: '#0072B2',
  embedding: '#E69F00',
  llm: '#009E73',
  fallback: '#CC79A7',
  error: '#D55E00',
};

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function labelColor(label: string): string {
  return FIXED[label] ?? MUTED[hash(label) % MUTED.length];
}

export function stageColor(stage: string): string {
  return STAGES[stage] ?? MUTED[hash(stage) % MUTED.length];
}

function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

/** Black or white, whichever reads better on `background`. */
export function textOn(background: string): string {
  const l = luminance(background);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#FFFFFF';
}
