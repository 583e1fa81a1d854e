/**
 * DBSCAN (Ester et al., 1996), as scikit-learn's `DBSCAN(eps, min_samples)` defines it: a point
 * with at least `minSamples` points (itself included) within `eps` is a core point; a cluster is
 * the core points reachable from one another through core neighbours, plus the non-core points
 * within `eps` of one of them (border points); every other point is noise (-1).
 *
 * Pure and deterministic: points are visited in index order, a cluster grows breadth first, and
 * a border point within reach of two clusters joins the one that reaches it first (as in
 * scikit-learn). Clusters are numbered 0, 1, … in the order they are found.
 *
 * Memory: each point's neighbourhood is asked for once (`neighbours`), used, and dropped, so
 * beyond what the caller holds the scan keeps O(n) numbers however dense the points are.
 * No npm package was used: the ones published are unmaintained or take a full distance matrix
 * (O(n²) memory); the algorithm is thirty lines.
 */

export const NOISE = -1;

export interface DbscanResult {
  /** Cluster of each point, 0-based in the order found; NOISE (-1) for noise. */
  readonly labels: Int32Array;
  /** 1 for a core point. */
  readonly core: Uint8Array;
  readonly clusters: number;
}

/**
 * `neighbours(i)`: the indices of every point within eps of point i, itself included (any order;
 * the scan sorts a copy). Called once per point.
 */
export function dbscan(n: number, neighbours: (i: number) => readonly number[], minSamples: number): DbscanResult {
  if (!Number.isInteger(minSamples) || minSamples < 1) throw new RangeError(`minSamples must be a positive integer, got ${minSamples}`);
  const UNSEEN = -2;
  const labels = new Int32Array(n).fill(UNSEEN);
  const core = new Uint8Array(n);
  let clusters = 0;
  const region = (i: number): number[] => [...neighbours(i)].sort((a, b) => a - b);
  // Points waiting to be expanded: each enters once (marked when queued), so at most n.
  const queue: number[] = [];
  for (let p = 0; p < n; p++) {
    if (labels[p] !== UNSEEN) continue;
    const around = region(p);
    if (around.length < minSamples) {
      // Noise unless a cluster found later reaches it (then a border point).
      labels[p] = NOISE;
      continue;
    }
    const cluster = clusters++;
    core[p] = 1;
    labels[p] = cluster;
    const claim = (points: readonly number[]) => {
      for (const r of points) {
        if (labels[r] === NOISE) labels[r] = cluster; // a border point: its own region was too small
        else if (labels[r] === UNSEEN) {
          labels[r] = cluster;
          queue.push(r);
        }
      }
    };
    queue.length = 0;
    claim(around);
    for (let k = 0; k < queue.length; k++) {
      const q = queue[k];
      const next = region(q);
      if (next.length >= minSamples) {
        core[q] = 1;
        claim(next);
      }
    }
  }
  return { labels, core, clusters };
}
