/** DBSCAN (src/discovery/dbscan.ts) and the cosine neighbourhoods it runs on (cosine.ts). */
import { describe, expect, it } from 'vitest';
import { cosineDistance, cosineNeighbours } from '../../src/discovery/cosine.js';
import { dbscan, NOISE } from '../../src/discovery/dbscan.js';

/** Points on a line; neighbours within eps (itself included), in a scrambled order. */
function onLine(xs: readonly number[], eps: number) {
  return (i: number) => xs.map((x, j) => [x, j] as const).filter(([x]) => Math.abs(x - xs[i]) <= eps).map(([, j]) => j).reverse();
}

describe('dbscan', () => {
  // Two dense runs, a border point beside the first, and a far point.
  //          0  1  2  3  4  5   6   7   8
  const xs = [0, 1, 2, 3, 5, 50, 51, 52, 200];

  it('finds core points, border points and noise', () => {
    const { labels, core, clusters } = dbscan(xs.length, onLine(xs, 2), 3);
    expect(clusters).toBe(2);
    expect([...labels]).toEqual([0, 0, 0, 0, 0, 1, 1, 1, NOISE]);
    // 4 (at 5) has only 3 (at 3) and itself within 2: a border point of cluster 0, not core.
    expect([...core]).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 0]);
  });

  it('a border point is not expanded: what only it reaches is noise', () => {
    // 0-3 all near one another, 4 near 3 and 5, 5 near 4 only: 4 is a border point (3 points
    // within reach, 4 needed), and 5, reachable only through it, stays noise.
    const edges = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3], [3, 4], [4, 5]];
    const graph = (i: number) => [i, ...edges.flatMap(([a, b]) => (a === i ? [b] : b === i ? [a] : []))];
    const { labels, core } = dbscan(6, graph, 4);
    expect([...labels]).toEqual([0, 0, 0, 0, 0, NOISE]);
    expect([...core]).toEqual([1, 1, 1, 1, 0, 0]);
  });

  it('min_samples 1: every point is core, nothing is noise', () => {
    const { labels, clusters } = dbscan(xs.length, onLine(xs, 2), 1);
    expect(clusters).toBe(3);
    expect([...labels]).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 2]);
  });

  it('is deterministic: the same clusters, numbered alike, whatever order neighbours come in', () => {
    const shuffled = (i: number) => [...onLine(xs, 2)(i)].sort(() => 0.5 - ((i * 7919) % 10) / 10);
    const a = dbscan(xs.length, onLine(xs, 2), 3);
    const b = dbscan(xs.length, shuffled, 3);
    expect([...b.labels]).toEqual([...a.labels]);
    // A border point reached by two clusters joins the first one found.
    const { labels } = dbscan(7, onLine([0, 1, 2, 4, 6, 7, 8], 2), 4);
    expect([...labels]).toEqual([0, 0, 0, 0, 1, 1, 1]);
  });

  it('asks for each neighbourhood once', () => {
    const asked = new Map<number, number>();
    const region = onLine(xs, 2);
    dbscan(xs.length, (i) => (asked.set(i, (asked.get(i) ?? 0) + 1), region(i)), 3);
    expect([...asked.values()].every((n) => n === 1)).toBe(true);
    expect(asked.size).toBe(xs.length);
  });
});

describe('cosine neighbourhoods', () => {
  const sparse = (entries: [number, number][]) => ({ indices: Uint32Array.from(entries.map((e) => e[0])), values: Float32Array.from(entries.map((e) => e[1])) });
  it('dense and sparse vectors give the same neighbours, by 1 - cos <= eps; a zero vector is alone', () => {
    const dense = [Float32Array.of(1, 0, 0), Float32Array.of(0.9, 0.1, 0), Float32Array.of(0, 1, 0), Float32Array.of(0, 0, 0), Float32Array.of(2, 0.1, 0)];
    const asSparse = dense.map((v) => sparse([...v].flatMap((x, k) => (x ? [[k, x] as [number, number]] : []))));
    for (const vectors of [dense, asSparse]) {
      const near = cosineNeighbours(vectors, 0.05);
      expect(near(0).sort()).toEqual([0, 1, 4]);
      expect(near(2)).toEqual([2]);
      expect(near(3)).toEqual([3]);
    }
    expect(cosineDistance(dense[0], dense[2])).toBeCloseTo(1);
    expect(cosineDistance(asSparse[0], asSparse[4])).toBeCloseTo(cosineDistance(dense[0], dense[4]));
  });
});
