// Line charts in SVG, drawn here: one line per tracked lesion over time.
import { svg } from './dom.js';
import { formatDate, formatNumber } from './i18n.js';

export const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/**
 * series: [{label, color, status, points: [{date: 'YYYYMMDD', value}]}];
 * dates: every study date (the x axis, in order).
 */
export function lineChart({ title, series, dates, unit, id }) {
  const width = 640, height = 300, left = 64, right = 44, top = 28, bottom = 44;
  const times = dates.map(dateValue);
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const span = t1 - t0 || 1;
  const all = series.flatMap((s) => s.points.map((p) => p.value)).filter(Number.isFinite);
  const step = niceCeiling(Math.max(1e-9, ...all) / 4);
  const maximum = 4 * step;
  const digits = step < 1 ? 2 : Number.isInteger(step) ? 0 : 1;
  const x = (date) => left + (dates.length === 1 ? (width - left - right) / 2 : ((dateValue(date) - t0) / span) * (width - left - right));
  const y = (value) => top + (1 - value / maximum) * (height - top - bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((fraction) => fraction * maximum);
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title, id },
    svg('title', {}, title),
    svg('text', { x: left, y: 16, class: 'chart-title' }, title),
    ticks.map((tick) => [
      svg('line', { x1: left, x2: width - right, y1: y(tick), y2: y(tick), class: 'grid' }),
      svg('text', { x: left - 6, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end' }, formatNumber(tick, digits)),
    ]),
    dates.map((date) => [
      svg('line', { x1: x(date), x2: x(date), y1: top, y2: height - bottom, class: 'grid' }),
      svg('text', { x: x(date), y: height - bottom + 16, class: 'axis', 'text-anchor': 'middle' }, formatDate(date)),
    ]),
    svg('text', { x: 12, y: top + (height - top - bottom) / 2, class: 'axis', transform: `rotate(-90 12 ${top + (height - top - bottom) / 2})`, 'text-anchor': 'middle' }, unit),
    series.map((line) => {
      const points = line.points.filter((p) => Number.isFinite(p.value));
      const path = points.map((p, index) => `${index ? 'L' : 'M'}${x(p.date).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
      return svg('g', { class: `track status-${line.status}`, stroke: line.color, fill: line.color },
        points.length > 1 ? svg('path', { d: path, fill: 'none', 'stroke-width': 2 }) : null,
        points.map((p, index) => {
          const first = index === 0 && line.status === 'new';
          return svg(first ? 'rect' : 'circle', first
            ? { x: x(p.date) - 5, y: y(p.value) - 5, width: 10, height: 10 }
            : { cx: x(p.date), cy: y(p.value), r: 4 },
          svg('title', {}, `${line.label} — ${formatDate(p.date)}: ${formatNumber(p.value, 1)} ${unit}`));
        }),
        line.status === 'resolved' && points.length
          ? svg('text', { x: x(points[points.length - 1].date) + 8, y: y(points[points.length - 1].value) + 4, class: 'resolved-mark' }, '✕')
          : null);
    }));
}

function dateValue(da) {
  return /^\d{8}$/.test(da || '') ? Date.UTC(+da.slice(0, 4), +da.slice(4, 6) - 1, +da.slice(6, 8)) : 0;
}

function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
