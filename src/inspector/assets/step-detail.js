// The detail card of the selected step: status, times, error, input, suspend and resume data, output, earlier attempts.
import { h } from './dom.js';
import { clock, duration } from './format.js';
import { jsonView } from './json-view.js';
import { errorDetails, statusBadge } from './widgets.js';

function section(title, value) {
  return value === undefined
    ? null
    : h('div', { class: 'kv' }, h('div', { class: 'kv-title', text: title }), jsonView(value));
}

function compare(view, path, current) {
  const olds = view.attempts.map((a) => ({ n: a.attempt, s: a.steps[path] })).filter((x) => x.s);
  if (!olds.length) return null;
  const column = (n, s) =>
    h(
      'div',
      { class: 'compare-col' },
      h('div', { class: 'compare-head' }, `Attempt ${n}`, statusBadge(s?.status ?? 'not-run')),
      jsonView(s?.error ?? s?.output),
    );
  return h(
    'div',
    { class: 'kv compare' },
    h('div', { class: 'kv-title', text: 'Earlier attempts of this step' }),
    h(
      'div',
      { class: 'compare-grid' },
      olds.map(({ n, s }) => column(n, s)),
      column(view.attempts.length + 1, current),
    ),
  );
}

/**
 * The card of timeline row `row` of run `view`. `onTimeTravel(path)` is offered when the run
 * can travel back to this step.
 */
export function stepDetail(view, row, info, { onTimeTravel }) {
  if (!row) return h('section', { class: 'card' }, h('p', { class: 'muted', text: 'No step has run yet.' }));
  const path = row.path;
  const s = row.result;
  const stepInfo = info?.steps[row.parentPath ?? path];
  const kind = row.kind === 'item' ? 'foreach item' : row.kind === 'workflow' ? 'nested workflow' : 'step';
  const canTravel =
    view.workflowLoaded && !['running', 'waiting'].includes(view.status) && row.kind !== 'item' && row.kind !== 'group';
  return h(
    'section',
    { class: 'card detail-card', dataset: { step: path } },
    h(
      'div',
      { class: 'detail-head' },
      h('div', {}, h('div', { class: 'muted small', text: kind }), h('h3', { class: 'detail-title', text: path })),
      statusBadge(s?.status ?? 'not-run'),
    ),
    stepInfo?.description ? h('p', { class: 'muted', text: stepInfo.description }) : null,
    s?.startedAt !== undefined
      ? h(
          'div',
          { class: 'detail-times' },
          h('span', { text: `started ${clock(s.startedAt)}` }),
          s.endedAt !== undefined ? h('span', { text: `took ${duration(s.endedAt - s.startedAt)}` }) : null,
          s.resumedAt !== undefined ? h('span', { text: `resumed ${clock(s.resumedAt)}` }) : null,
        )
      : null,
    s?.error ? h('div', { class: 'kv' }, h('div', { class: 'kv-title', text: 'Error' }), errorDetails(s.error)) : null,
    section('Input', s?.payload),
    section('Suspend payload', s?.suspendPayload),
    section('Resume data', s?.resumePayload),
    section('Output', s?.output),
    compare(view, path, s),
    canTravel
      ? h(
          'div',
          { class: 'form-actions' },
          h('button', {
            class: 'btn',
            type: 'button',
            text: 'Time travel from this step',
            onclick: () => onTimeTravel(path),
          }),
        )
      : null,
  );
}
