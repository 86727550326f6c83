// Charts with uPlot (served from our own origin, vendor/uplot-*/): bars
// of integer fen. The element carries what it draws in data-chart (the
// labels and each series' values, the API's numbers unchanged), and the
// screen puts a table of the same numbers beside it.
import { h } from '../common/dom.js';
import { yuan } from '../common/money.js';

// Tick steps in fen, whole yuan only, so every tick label is exact.
const INCRS = [];
for (let p = 100; p <= 1e15; p *= 10) INCRS.push(p, 2 * p, 5 * p);
const COLORS = ['#9b2c1f', '#1d6b3a', '#1a5fb4', '#8a5a00', '#5c534d'];
const tick = (v) => yuan(Math.round(v / 100) * 100).slice(0, -3);

// chart({label, labels: ['…'], ticks?: shorter labels for the axis,
// series: [{key, label, values: [fen…]}]}):
// the element now; draw(el) once it is in the document (it needs a width).
export function chart(spec) {
  const el = h('div', { class: 'chart', role: 'img', 'aria-label': spec.label, dataset: { chart: JSON.stringify({ labels: spec.labels, series: spec.series.map(({ key, label, values }) => ({ key, label, values })) }) } });
  el.spec = spec;
  return el;
}

export function draw(el) {
  const U = globalThis.uPlot;
  if (!U || !el.isConnected) return;
  const { labels, series } = el.spec;
  const count = series.length;
  const width = () => Math.max(240, el.clientWidth || 480);
  const opts = {
    width: width(), height: 260,
    legend: { show: false }, cursor: { show: false }, select: { show: false },
    scales: {
      x: { time: false, range: () => [-0.5, labels.length - 0.5] },
      y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 100] },
    },
    axes: [
      { splits: () => labels.map((_, i) => i), values: (u, splits) => splits.map((i) => (el.spec.ticks || labels)[i] ?? ''), grid: { show: false } },
      { incrs: INCRS, values: (u, splits) => splits.map(tick), size: 90 },
    ],
    series: [{}, ...series.map((s, k) => ({
      label: s.label, stroke: COLORS[k % COLORS.length], fill: COLORS[k % COLORS.length], width: 0,
      points: { show: false },
      paths: U.paths.bars({ size: [count > 1 ? 0.8 / count : 0.6, 80], align: count > 1 ? (k === 0 ? 1 : -1) : 0 }),
    }))],
  };
  const u = new U(opts, [labels.map((_, i) => i), ...series.map((s) => s.values)], el);
  el.plot = u;
  if (globalThis.ResizeObserver) new ResizeObserver(() => { if (u.width !== width()) u.setSize({ width: width(), height: 260 }); }).observe(el);
}

export { COLORS };
