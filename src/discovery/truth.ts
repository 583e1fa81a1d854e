/** The ground-truth column of a CSV header: target_label, else label; -1 for none. */
export function truthColumn(header: readonly string[]): number {
  const names = header.map((h) => h.trim().toLowerCase());
  const at = names.indexOf('target_label');
  return at >= 0 ? at : names.indexOf('label');
}
