// The sidebar: runs newest first with status, filters by workflow and status, refreshed live.
import { api } from './api.js';
import { h, replace } from './dom.js';
import { STATUS_LABEL, ago, shortId } from './format.js';

const STATUS_FILTERS = ['running', 'waiting', 'suspended', 'success', 'failed', 'canceled'];
const PAGE = 50;

/** Mounts the runs list in `root`. `selectedRunId()` tells which run is open. Returns `{ refresh() }`. */
export function mountRunsList(root, { workflows, selectedRunId, onOpen }) {
  const filters = { workflowId: '', statuses: new Set(), perPage: PAGE };
  const list = h('div', { class: 'runs', attrs: { role: 'list', 'aria-label': 'Runs' } });
  const footer = h('div', { class: 'runs-footer' });
  const workflowSelect = h(
    'select',
    {
      attrs: { 'aria-label': 'Filter by workflow' },
      onchange: () => {
        filters.workflowId = workflowSelect.value;
        void refresh();
      },
    },
    h('option', { value: '', text: 'All workflows' }),
    workflows.map((w) => h('option', { value: w.id, text: w.id })),
  );
  const chips = h(
    'div',
    { class: 'chips' },
    STATUS_FILTERS.map((status) =>
      h('button', {
        type: 'button',
        class: `chip chip-${status}`,
        text: STATUS_LABEL[status],
        dataset: { status },
        attrs: { 'aria-pressed': 'false' },
        onclick: (e) => {
          if (filters.statuses.has(status)) filters.statuses.delete(status);
          else filters.statuses.add(status);
          e.currentTarget.setAttribute('aria-pressed', String(filters.statuses.has(status)));
          void refresh();
        },
      }),
    ),
  );
  replace(root, h('div', { class: 'sidebar-head' }, h('h2', { text: 'Runs' }), workflowSelect, chips), list, footer);

  let lastKey = '';
  async function refresh() {
    const params = new URLSearchParams({ perPage: String(filters.perPage) });
    if (filters.workflowId) params.set('workflowId', filters.workflowId);
    if (filters.statuses.size) params.set('status', [...filters.statuses].join(','));
    let page;
    try {
      page = await api(`/runs?${params}`);
    } catch {
      return;
    }
    const selected = selectedRunId();
    const key = JSON.stringify([page, selected, Math.floor(Date.now() / 10_000)]);
    if (key === lastKey) return;
    lastKey = key;
    replace(
      list,
      page.runs.length === 0
        ? h(
            'div',
            { class: 'runs-empty' },
            h('p', { text: 'No runs yet.' }),
            h(
              'p',
              { class: 'muted' },
              'Start one with “New run”, the API or ',
              h('code', { text: 'weft runs start' }),
              '.',
            ),
          )
        : page.runs.map((r) =>
            h(
              'a',
              {
                class: ['run-item', r.runId === selected && 'run-item-selected'],
                href: `#/runs/${encodeURIComponent(r.runId)}`,
                dataset: { runId: r.runId, status: r.status },
                attrs: { role: 'listitem' },
                onclick: () => onOpen?.(r.runId),
              },
              h('span', { class: `dot dot-${r.status}`, title: STATUS_LABEL[r.status] }),
              h(
                'span',
                { class: 'run-item-main' },
                h('span', { class: 'run-item-wf', text: r.workflowName }),
                h('span', { class: 'run-item-id mono', text: shortId(r.runId) }),
              ),
              h(
                'span',
                { class: 'run-item-side' },
                h('span', { class: `status-text st-text-${r.status}`, text: STATUS_LABEL[r.status] ?? r.status }),
                h('span', { class: 'muted small', text: ago(r.updatedAt) }),
              ),
            ),
          ),
    );
    replace(
      footer,
      h('span', { class: 'muted small', text: `${page.runs.length} of ${page.total}` }),
      page.total > page.runs.length
        ? h('button', {
            type: 'button',
            class: 'link-button',
            text: 'Show more',
            onclick: () => {
              filters.perPage += PAGE;
              void refresh();
            },
          })
        : null,
    );
  }

  void refresh();
  const timer = setInterval(() => {
    if (!document.hidden) void refresh();
  }, 2000);
  return { refresh, stop: () => clearInterval(timer) };
}
