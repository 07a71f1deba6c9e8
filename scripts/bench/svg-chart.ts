/** Hand-written SVG charts for bench results: no chart library, readable in any browser. */

const COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1'];

export interface BarGroup {
  label: string;
  /** One value per series, in series order; NaN draws no bar. */
  values: number[];
}

export interface LineSeries {
  name: string;
  points: { x: number; y: number }[];
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

/** Grouped bars (one group per stage, one bar per series) in a panel at (x, y). */
export function barPanel(args: { x: number; y: number; width: number; height: number; title: string; unit: string; series: string[]; groups: BarGroup[] }): string {
  const { x, y, width, height, title, unit, series, groups } = args;
  const top = y + 40;
  const plotHeight = height - 90;
  const left = x + 50;
  const plotWidth = width - 60;
  const max = niceMax(Math.max(...groups.flatMap((g) => g.values.filter(Number.isFinite))));
  const groupWidth = plotWidth / Math.max(1, groups.length);
  const barWidth = (groupWidth * 0.7) / Math.max(1, series.length);
  const out: string[] = [`<text x="${x + width / 2}" y="${y + 20}" text-anchor="middle" font-weight="bold">${escape(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    const ty = top + plotHeight - (plotHeight * i) / 4;
    out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${ty + 4}" text-anchor="end" font-size="11">${Math.round(value)}</text>`);
  }
  out.push(`<text x="${x + 12}" y="${top + plotHeight / 2}" font-size="11" transform="rotate(-90 ${x + 12} ${top + plotHeight / 2})" text-anchor="middle">${escape(unit)}</text>`);
  groups.forEach((group, g) => {
    const gx = left + g * groupWidth + groupWidth * 0.15;
    group.values.forEach((value, s) => {
      if (!Number.isFinite(value)) return;
      const h = (plotHeight * Math.max(0, value)) / max;
      const bx = gx + s * barWidth;
      out.push(`<rect x="${bx.toFixed(1)}" y="${(top + plotHeight - h).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[s % COLORS.length]}"><title>${escape(`${series[s]} ${group.label}: ${Math.round(value)} ${unit}`)}</title></rect>`);
      out.push(`<text x="${(bx + barWidth / 2 - 1).toFixed(1)}" y="${(top + plotHeight - h - 3).toFixed(1)}" text-anchor="middle" font-size="9">${Math.round(value)}</text>`);
    });
    out.push(`<text x="${(gx + (barWidth * series.length) / 2).toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle" font-size="11">${escape(group.label)}</text>`);
  });
  out.push(legend(left, top + plotHeight + 34, series));
  return out.join('\n');
}

/** Lines over a numeric x axis (e.g. v2v p95 against concurrent calls) in a panel at (x, y). */
export function linePanel(args: { x: number; y: number; width: number; height: number; title: string; xLabel: string; unit: string; series: LineSeries[] }): string {
  const { x, y, width, height, title, xLabel, unit, series } = args;
  const top = y + 40;
  const plotHeight = height - 100;
  const left = x + 50;
  const plotWidth = width - 70;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const xMax = Math.max(1, ...xs);
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite)));
  const px = (v: number) => left + (plotWidth * v) / xMax;
  const py = (v: number) => top + plotHeight - (plotHeight * v) / yMax;
  const out: string[] = [`<text x="${x + width / 2}" y="${y + 20}" text-anchor="middle" font-weight="bold">${escape(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const value = (yMax * i) / 4;
    out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${py(value)}" y2="${py(value)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${py(value) + 4}" text-anchor="end" font-size="11">${Math.round(value)}</text>`);
  }
  for (const v of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<text x="${px(v)}" y="${top + plotHeight + 16}" text-anchor="middle" font-size="11">${v}</text>`);
  }
  out.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 32}" text-anchor="middle" font-size="11">${escape(xLabel)}</text>`);
  out.push(`<text x="${x + 12}" y="${top + plotHeight / 2}" font-size="11" transform="rotate(-90 ${x + 12} ${top + plotHeight / 2})" text-anchor="middle">${escape(unit)}</text>`);
  series.forEach((s, i) => {
    const points = s.points.filter((p) => Number.isFinite(p.y));
    const color = COLORS[i % COLORS.length];
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of points) out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"><title>${escape(`${s.name} at ${p.x}: ${Math.round(p.y)} ${unit}`)}</title></circle>`);
  });
  out.push(legend(left, top + plotHeight + 50, series.map((s) => s.name)));
  return out.join('\n');
}

function legend(x: number, y: number, names: string[]): string {
  return names
    .map((name, i) => `<rect x="${x + i * 160}" y="${y - 9}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${x + i * 160 + 14}" y="${y}" font-size="11">${escape(name)}</text>`)
    .join('\n');
}

/** A whole SVG document of panels laid out by the caller. */
export function svgDocument(width: number, height: number, title: string, panels: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
