// Small shared pieces of the run page: status badges, cards and error boxes.
import { h } from './dom.js';
import { STATUS_LABEL } from './format.js';
import { jsonView } from './json-view.js';

/** A status pill; `data-status` carries the raw status. */
export function statusBadge(status, big = false) {
  return h('span', {
    class: ['badge', `badge-${status}`, big && 'badge-big'],
    dataset: { status },
    text: STATUS_LABEL[status] ?? status,
  });
}

/** A titled card. */
export function card(title, ...body) {
  return h('section', { class: 'card' }, title ? h('h3', { class: 'card-title', text: title }) : null, ...body);
}

const PLAIN_KEYS = ['name', 'message', 'cause', 'stack'];

/** A stored error: `Name: message`, its cause chain, and its other fields as JSON. */
export function errorDetails(error) {
  if (!error) return null;
  const chain = [];
  let e = error;
  while (e && typeof e === 'object' && chain.length < 5) {
    chain.push(e);
    e = e.cause;
  }
  const extra = Object.fromEntries(Object.entries(error).filter(([k]) => !PLAIN_KEYS.includes(k)));
  return h(
    'div',
    { class: 'error-box' },
    chain.map((err, i) =>
      h(
        'div',
        { class: 'error-line' },
        i > 0 ? h('span', { class: 'muted', text: 'caused by ' }) : null,
        h('strong', { text: err.name ?? 'Error' }),
        ': ',
        err.message ?? String(err),
      ),
    ),
    Object.keys(extra).length ? jsonView(extra) : null,
  );
}
