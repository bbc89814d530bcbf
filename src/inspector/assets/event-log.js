// The live event log of a run page: one row per event (click for its JSON), kept scrolled to the newest.
import { h } from './dom.js';
import { STATUS_LABEL, errorText, preview } from './format.js';
import { jsonDialog } from './dialogs.js';

const MAX_SHOWN = 400;

function summaryOf(event) {
  const p = event.payload ?? {};
  if (event.type === 'workflow-step-progress') {
    // An item ended by a cancel carries no count of the whole foreach: say what happened to it alone.
    const item = `item ${p.currentIndex} ${STATUS_LABEL[p.iterationStatus]?.toLowerCase() ?? p.iterationStatus}`;
    return p.totalCount > 0 ? `${item} · ${p.completedCount}/${p.totalCount} done` : item;
  }
  if (p.error) return errorText(p.error);
  if (event.type === 'workflow-step-suspended') return preview(p.suspendPayload, 60);
  if (event.type === 'workflow-step-result' || event.type === 'workflow-step-output') return preview(p.output, 60);
  if (event.type.startsWith('data-')) return preview(event.data, 60);
  return '';
}

function eventRow(event) {
  const p = event.payload ?? {};
  const status = p.status ?? p.workflowStatus ?? p.iterationStatus;
  return h(
    'button',
    {
      type: 'button',
      class: 'event-row',
      dataset: { type: event.type },
      onclick: () => void jsonDialog(`Event #${event.seq} · ${event.type}`, event),
    },
    h('span', { class: 'ev-seq', text: `#${event.seq}` }),
    h('span', { class: ['ev-type', status && `ev-${status}`], text: event.type.replace(/^workflow-/, '') }),
    h('span', { class: 'ev-step', text: p.id ?? p.stepName ?? '' }),
    h('span', { class: 'ev-summary', text: summaryOf(event) }),
  );
}

/** The events card. `add(event)` appends a row; `setLive(on)` lights the live dot. */
export function createEventLog() {
  const list = h('div', { class: 'events-list', attrs: { role: 'log', 'aria-label': 'Live events' } });
  const dot = h('span', { class: 'live-dot', title: 'Live stream' });
  const count = h('span', { class: 'muted small' });
  let total = 0;
  const el = h(
    'section',
    { class: 'card events-card' },
    h('div', { class: 'card-title events-title' }, 'Events ', dot, count),
    list,
  );
  return {
    el,
    add(event) {
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      list.append(eventRow(event));
      while (list.childElementCount > MAX_SHOWN) list.firstElementChild?.remove();
      count.textContent = String(++total);
      if (atBottom) list.scrollTop = list.scrollHeight;
    },
    setLive(on) {
      dot.classList.toggle('on', on);
    },
  };
}
