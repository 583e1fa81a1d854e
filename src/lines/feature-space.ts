/**
 * The head's feature space over an embedder: the embedding, then a block of header features (the
 * level one-hot, hashed component words). Its fingerprint is what a head file records and what
 * models/head-status.ts compares, without loading a model: a module of constants only, so that
 * both the featurizer and the head checks depend on it (and not on each other).
 */
import { SEVERITIES } from './header.js';

/** Hash buckets for component words; the level takes one slot per severity plus "none". */
export const COMPONENT_BUCKETS = 1 << 10;
export const LEVEL_SLOTS = SEVERITIES.length + 1;
export const STRUCTURE_DIMENSION = LEVEL_SLOTS + COMPONENT_BUCKETS;

/** The fingerprint of the head's feature space over an embedder with this fingerprint. */
export function lineFeaturesFingerprint(embedderFingerprint: string): string {
  return `${embedderFingerprint}+line:v1:l${LEVEL_SLOTS}:c${COMPONENT_BUCKETS}`;
}
