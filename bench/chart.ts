/**
 * A dependency-free SVG bar chart of a run: one panel per measured group (medians), then the floors
 * from the issues, each drawn as value/limit against a line at 1.
 */
import { formatNumber, formatRatio, type Ratio, type Section } from './stats.js';

const COLORS: Record<string, string> = {
  ranged: '#2563eb',
  send: '#f59e0b',
  sirv: '#10b981',
  nginx: '#6b7280',
  curl: '#8b5cf6',
  aria2c: '#db2777',
};

const WIDTH = 1000;
const LABEL_W = 330;
const BAR_W = 420;
const ROW_H = 20;

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function colorFor(label: string): string {
  return COLORS[label.split(' ')[0] ?? ''] ?? '#374151';
}

function text(x: number, y: number, body: string, attrs = ''): string {
  return `<text x="${x}" y="${y}" ${attrs}>${escapeXml(body)}</text>`;
}

function rect(x: number, y: number, w: number, h: number, fill: string): string {
  return `<rect x="${x}" y="${y}" width="${Math.max(0, w).toFixed(1)}" height="${h}" fill="${fill}" rx="2"/>`;
}

/** How far the check is from its limit: ≥ 1 passes a `>=` floor, ≤ 1 passes a `<`/`<=` ceiling. */
function normalised(r: Ratio): number {
  return r.floor === undefined ? r.value : r.value / r.floor.limit;
}

export function renderChart(title: string, subtitle: string, sections: Section[]): string {
  const parts: string[] = [];
  let y = 30;
  parts.push(text(16, y, title, 'font-size="18" font-weight="bold"'));
  y += 20;
  parts.push(text(16, y, subtitle, 'font-size="12" fill="#4b5563"'));
  y += 16;

  for (const section of sections) {
    y += 18;
    parts.push(text(16, y, section.title, 'font-size="13" font-weight="bold"'));
    y += 8;
    if (section.skipped !== undefined) {
      y += 16;
      parts.push(text(24, y, section.skipped, 'font-size="12" fill="#b91c1c"'));
      y += 4;
      // A section may be skipped in part (a server not available) and still have figures.
      if (section.measurements.length === 0) continue;
    }
    // Bars are scaled per unit, so bytes and req/s never share an axis.
    const units = [...new Set(section.measurements.map((m) => m.unit))];
    for (const unit of units) {
      const rows = section.measurements.filter((m) => m.unit === unit);
      const max = Math.max(...rows.map((m) => m.median), 1e-9);
      for (const m of rows) {
        y += ROW_H;
        parts.push(text(LABEL_W - 8, y - 5, m.label, 'font-size="12" text-anchor="end"'));
        parts.push(
          rect(LABEL_W, y - ROW_H + 4, (m.median / max) * BAR_W, ROW_H - 6, colorFor(m.label)),
        );
        parts.push(
          text(
            LABEL_W + Math.max(2, (m.median / max) * BAR_W) + 6,
            y - 5,
            `${formatNumber(m.median)} ${unit}`,
            'font-size="11" fill="#111827"',
          ),
        );
      }
      y += 4;
    }
  }

  const floors = sections.flatMap((s) => s.ratios.filter((r) => r.floor !== undefined));
  if (floors.length > 0) {
    y += 22;
    parts.push(
      text(
        16,
        y,
        'Floors from the issues (bar = value / limit; line = the limit)',
        'font-size="13" font-weight="bold"',
      ),
    );
    y += 8;
    const scale = Math.max(2, ...floors.map((r) => Math.min(normalised(r), 4)));
    const top = y;
    for (const r of floors) {
      y += ROW_H;
      const floor = r.floor;
      if (floor === undefined) continue;
      const unit = r.unit ?? 'x';
      const shown =
        unit === 'x' ? formatRatio(r.value, floor.limit) : `${formatNumber(r.value)} ${unit}`;
      parts.push(
        text(LABEL_W - 8, y - 5, `#${floor.issue} ${r.label}`, 'font-size="12" text-anchor="end"'),
      );
      const w = (Math.min(normalised(r), 4) / scale) * BAR_W;
      parts.push(rect(LABEL_W, y - ROW_H + 4, w, ROW_H - 6, r.pass ? '#16a34a' : '#dc2626'));
      parts.push(
        text(
          LABEL_W + Math.max(w, BAR_W / scale) + 6,
          y - 5,
          `${shown} (${floor.op} ${floor.limit}${unit === 'x' ? 'x' : ` ${unit}`}) ${r.pass ? 'PASS' : 'FAIL'}`,
          `font-size="11" fill="${r.pass ? '#166534' : '#991b1b'}"`,
        ),
      );
    }
    const x1 = LABEL_W + BAR_W / scale;
    parts.push(
      `<line x1="${x1}" y1="${top + 2}" x2="${x1}" y2="${y + 2}" stroke="#111827" stroke-dasharray="3 2"/>`,
    );
  }
  y += 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
