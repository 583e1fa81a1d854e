import type { CalibrationBin } from '../training/metrics.js';

/** Dependency-free SVG charts for evaluation reports: a confusion heat map and a reliability diagram. */
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

export function confusionSvg(labels: readonly string[], confusion: readonly (readonly number[])[]): string {
  const cell = 44;
  const left = 180;
  const top = 170;
  const n = labels.length;
  const width = left + n * cell + 20;
  const height = top + n * cell + 40;
  const parts: string[] = [];
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, j) => {
      // Shade by share of the true label's rows, so rare labels stay readable.
      const share = count / total;
      const shade = Math.round(255 - share * 200);
      const fill = i === j ? `rgb(${shade},${Math.min(255, shade + 30)},255)` : `rgb(255,${shade},${shade})`;
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${count ? fill : '#fafafa'}" stroke="#ddd"/>`);
      if (count) parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="11">${count}</text>`);
    });
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end" font-size="12">${esc(labels[i])}</text>`);
  });
  labels.forEach((label, j) => {
    const x = left + j * cell + cell / 2;
    parts.push(`<text transform="translate(${x},${top - 6}) rotate(-50)" font-size="12">${esc(label)}</text>`);
  });
  parts.push(`<text x="${left + (n * cell) / 2}" y="${height - 10}" text-anchor="middle" font-size="12">predicted</text>`);
  parts.push(`<text transform="translate(14,${top + (n * cell) / 2}) rotate(-90)" text-anchor="middle" font-size="12">true</text>`);
  return svg(width, height, parts);
}

export function reliabilitySvg(bins: readonly CalibrationBin[], ece: number): string {
  const size = 300;
  const pad = 50;
  const width = size + pad * 2;
  const height = size + pad * 2;
  const x = (v: number) => pad + v * size;
  const y = (v: number) => pad + (1 - v) * size;
  const total = bins.reduce((a, b) => a + b.count, 0) || 1;
  const parts = [
    `<rect x="${pad}" y="${pad}" width="${size}" height="${size}" fill="#fff" stroke="#999"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#aaa" stroke-dasharray="4 3"/>`,
  ];
  for (const bin of bins) {
    if (!bin.count) continue;
    const w = (bin.upper - bin.lower) * size;
    parts.push(`<rect x="${x(bin.lower) + 1}" y="${y(bin.accuracy)}" width="${w - 2}" height="${bin.accuracy * size}" fill="#4a7fd4" opacity="0.8"/>`);
    parts.push(`<rect x="${x(bin.lower) + 1}" y="${y(0) - (bin.count / total) * 40}" width="${w - 2}" height="${(bin.count / total) * 40}" fill="#f0a040" opacity="0.7"/>`);
  }
  for (const t of [0, 0.5, 1]) {
    parts.push(`<text x="${x(t)}" y="${y(0) + 16}" text-anchor="middle" font-size="11">${t}</text>`);
    parts.push(`<text x="${x(0) - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${t}</text>`);
  }
  parts.push(`<text x="${pad + size / 2}" y="${height - 12}" text-anchor="middle" font-size="12">confidence (orange: share of rows)</text>`);
  parts.push(`<text transform="translate(14,${pad + size / 2}) rotate(-90)" text-anchor="middle" font-size="12">accuracy</text>`);
  parts.push(`<text x="${pad}" y="${pad - 12}" font-size="13">Reliability — ECE ${ece.toFixed(4)}</text>`);
  return svg(width, height, parts);
}

function svg(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}
