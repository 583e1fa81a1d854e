import { isSparse, type Vector } from '../embedding/types.js';

/**
 * Neighbourhoods under cosine distance (1 − cos), for dbscan(): `neighbours(i)` lists every vector
 * within `eps` of vector i, itself included. One row of distances at a time, so memory stays at
 * the vectors plus O(n), whatever eps. Dense vectors (a transformer's) are compared directly;
 * sparse ones (the lexical embedder's hashed n-grams) through an inverted index, so a row costs
 * the postings of its own features rather than n merges. A zero vector is near nothing but itself.
 */
export function cosineNeighbours(vectors: readonly Vector[], eps: number): (i: number) => number[] {
  const n = vectors.length;
  const limit = 1 - eps - 1e-9;
  const acc = new Float64Array(n);
  const norms = vectors.map(norm);
  if (vectors.every((v) => !isSparse(v))) {
    const dense = vectors as readonly Float32Array[];
    return (i) => {
      const out: number[] = [i];
      if (norms[i] === 0) return out;
      const a = dense[i];
      for (let j = 0; j < n; j++) {
        if (j === i || norms[j] === 0) continue;
        const b = dense[j];
        let dot = 0;
        for (let k = 0; k < a.length; k++) dot += a[k] * b[k];
        if (dot / (norms[i] * norms[j]) >= limit) out.push(j);
      }
      return out;
    };
  }
  // Inverted index: for each feature, the vectors that have it and their normalised values.
  const postings = new Map<number, { ids: number[]; values: number[] }>();
  const sparse = vectors.map((v) => (isSparse(v) ? v : toSparse(v)));
  sparse.forEach((v, j) => {
    if (norms[j] === 0) return;
    for (let k = 0; k < v.indices.length; k++) {
      if (v.values[k] === 0) continue;
      let list = postings.get(v.indices[k]);
      if (!list) postings.set(v.indices[k], (list = { ids: [], values: [] }));
      list.ids.push(j);
      list.values.push(v.values[k] / norms[j]);
    }
  });
  return (i) => {
    const out: number[] = [i];
    if (norms[i] === 0) return out;
    const v = sparse[i];
    const touched: number[] = [];
    for (let k = 0; k < v.indices.length; k++) {
      const list = postings.get(v.indices[k]);
      if (!list) continue;
      const w = v.values[k] / norms[i];
      for (let m = 0; m < list.ids.length; m++) {
        const j = list.ids[m];
        if (acc[j] === 0) touched.push(j);
        acc[j] += w * list.values[m];
      }
    }
    for (const j of touched) {
      if (j !== i && acc[j] >= limit) out.push(j);
      acc[j] = 0;
    }
    return out;
  };
}

/** Cosine distance of two vectors (1 − cos; 1 when either is zero). */
export function cosineDistance(a: Vector, b: Vector): number {
  const na = norm(a);
  const nb = norm(b);
  if (na === 0 || nb === 0) return 1;
  const sa = isSparse(a) ? a : toSparse(a);
  const sb = isSparse(b) ? b : toSparse(b);
  let dot = 0;
  for (let x = 0, y = 0; x < sa.indices.length && y < sb.indices.length; ) {
    if (sa.indices[x] === sb.indices[y]) dot += sa.values[x++] * sb.values[y++];
    else if (sa.indices[x] < sb.indices[y]) x++;
    else y++;
  }
  return 1 - dot / (na * nb);
}

function norm(v: Vector): number {
  const values = isSparse(v) ? v.values : v;
  let s = 0;
  for (let k = 0; k < values.length; k++) s += values[k] * values[k];
  return Math.sqrt(s);
}

function toSparse(v: Float32Array): { indices: Uint32Array; values: Float32Array } {
  const indices: number[] = [];
  const values: number[] = [];
  v.forEach((x, k) => {
    if (x !== 0) {
      indices.push(k);
      values.push(x);
    }
  });
  return { indices: Uint32Array.from(indices), values: Float32Array.from(values) };
}
