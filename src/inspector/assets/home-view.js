// The start page: runs by status and the last hour's throughput, the loaded workflows with their graphs, and a button to start each.
import { api } from './api.js';
import { h, replace } from './dom.js';
import { newRunDialog } from './dialogs.js';
import { flowGraph } from './flow-graph.js';
import { STATUS_LABEL, clock } from './format.js';

const SHOWN_STATUSES = ['running', 'waiting', 'suspended', 'failed', 'success', 'canceled'];
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children.flat());
  return el;
}

/** Bars of runs started per minute, oldest on the left; each bar's title gives its minute and count. */
function sparkline({ from, bucketMs, started }) {
  const w = 240;
  const hgt = 40;
  const max = Math.max(1, ...started);
  const step = w / started.length;
  return svg(
    'svg',
    {
      class: 'sparkline',
      viewBox: `0 0 ${w} ${hgt}`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': 'Runs started per minute, last hour',
    },
    svg('line', { x1: 0, y1: hgt - 0.5, x2: w, y2: hgt - 0.5, class: 'spark-base' }),
    started.map((n, i) => {
      const bh = n === 0 ? 0 : Math.max(2, (n / max) * (hgt - 2));
      const bar = svg('rect', {
        x: i * step + 0.5,
        y: hgt - bh,
        width: Math.max(1, step - 1),
        height: bh,
        class: 'spark-bar',
      });
      bar.append(svg('title', {}, `${clock(from + i * bucketMs).slice(0, 5)}: ${n} run${n === 1 ? '' : 's'}`));
      return bar;
    }),
  );
}

/** The status counts and the throughput of the last hour, from `GET /stats`. */
function statsPanel(stats) {
  const started = stats.throughput.started;
  const lastHour = started.reduce((a, b) => a + b, 0);
  return h(
    'section',
    { class: 'stats', attrs: { 'aria-label': 'Runs by status' } },
    h(
      'div',
      { class: 'stat-tiles' },
      h(
        'div',
        { class: 'stat-tile stat-total', dataset: { status: 'total' } },
        h('span', { class: 'stat-n', text: String(stats.total) }),
        h('span', { class: 'stat-label', text: 'Runs' }),
      ),
      // Pending and paused runs are rare: their tiles show only when there are some.
      [...SHOWN_STATUSES, ...['pending', 'paused'].filter((s) => stats.counts[s] > 0)].map((status) =>
        h(
          'div',
          { class: ['stat-tile', `stat-${status}`, stats.counts[status] === 0 && 'stat-zero'], dataset: { status } },
          h('span', { class: 'stat-n', text: String(stats.counts[status] ?? 0) }),
          h('span', { class: 'stat-label' }, h('span', { class: `dot dot-${status}` }), STATUS_LABEL[status]),
        ),
      ),
    ),
    h(
      'div',
      { class: 'stat-spark', dataset: { lastHour: String(lastHour) } },
      h(
        'div',
        { class: 'stat-spark-head' },
        h('span', { class: 'stat-label', text: 'Started, last hour' }),
        h('span', { class: 'stat-n-small', text: `${lastHour} · peak ${Math.max(0, ...started)}/min` }),
      ),
      sparkline(stats.throughput),
    ),
  );
}

/** Renders the start page in `main`; the stats refresh every 5 s. Returns a function that stops them. */
export function renderHome(main, app) {
  const statsSlot = h('div', { class: 'stats-slot' });
  let stopped = false;
  const refresh = async () => {
    try {
      const stats = await api('/stats');
      if (!stopped) replace(statsSlot, statsPanel(stats));
    } catch {
      // The counts are a convenience: the page works without them.
    }
  };
  void refresh();
  const timer = setInterval(() => {
    if (!document.hidden) void refresh();
  }, 5000);
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  if (app.workflows.length === 0) {
    replace(
      main,
      statsSlot,
      h(
        'div',
        { class: 'empty' },
        h('h2', { text: 'No workflows loaded' }),
        h(
          'p',
          { class: 'muted' },
          'This server shows the runs in its store. To start and operate runs, serve a workflows file: ',
          h('code', { text: 'weft serve --workflows workflows.ts' }),
        ),
      ),
    );
    return stop;
  }
  replace(
    main,
    h(
      'div',
      { class: 'home' },
      statsSlot,
      h(
        'div',
        { class: 'home-head' },
        h('h1', { text: 'Workflows' }),
        h('p', { class: 'muted', text: 'Pick a run in the list to inspect it, or start a new one.' }),
      ),
      h(
        'div',
        { class: 'wf-grid' },
        app.workflows.map((wf) =>
          h(
            'section',
            { class: 'card wf-card', dataset: { workflow: wf.id } },
            h(
              'div',
              { class: 'wf-card-head' },
              h('h3', { text: wf.id }),
              h('button', {
                class: 'btn btn-primary btn-small',
                type: 'button',
                text: 'Start',
                onclick: async () => {
                  const id = await newRunDialog(app.workflows, { workflowId: wf.id });
                  if (id) app.navigate(`#/runs/${encodeURIComponent(id)}`);
                },
              }),
            ),
            wf.description ? h('p', { class: 'muted', text: wf.description }) : null,
            flowGraph(wf.stepGraph),
            h('div', {
              class: 'wf-card-foot muted small',
              text: `${Object.keys(wf.steps).length} steps${Object.values(wf.steps).some((s) => s.resumeSchema) ? ' · waits for people' : ''}`,
            }),
          ),
        ),
      ),
    ),
  );
  return stop;
}
