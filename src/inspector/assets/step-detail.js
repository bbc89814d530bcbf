// The detail card of the selected step: status, times, error, input, suspend and resume data, output, an agent's
// model usage and streaming answer, retries, earlier attempts.
import { h } from './dom.js';
import { clock, duration, errorText } from './format.js';
import { jsonView } from './json-view.js';
import { errorDetails, statusBadge } from './widgets.js';

function section(title, value) {
  return value === undefined
    ? null
    : h('div', { class: 'kv' }, h('div', { class: 'kv-title', text: title }), jsonView(value));
}

/** An agent step's model usage: model, tokens in and out, why it stopped. */
function usage(s) {
  const u = s?.usage;
  if (!u) return null;
  const parts = [
    u.modelId ? `model ${u.modelId}` : null,
    `${u.inputTokens ?? 0} in / ${u.outputTokens ?? 0} out tokens`,
    u.finishReason ? `finished: ${u.finishReason}` : null,
  ].filter(Boolean);
  return h(
    'div',
    { class: 'kv usage' },
    h('div', { class: 'kv-title', text: 'Model usage' }),
    h('div', { text: parts.join(' · ') }),
  );
}

/** The text an agent step's model has streamed so far, while the step runs. */
function streaming(s, text) {
  if (text === undefined || (s && s.status !== 'running')) return null;
  return h(
    'div',
    { class: 'kv agent-stream-box' },
    h('div', { class: 'kv-title', text: 'Answer so far' }),
    h('pre', { class: 'agent-stream', text }),
  );
}

/** The attempts of a retried step: each one's status, duration and error. */
function tries(s) {
  if (!s?.tries) return null;
  return h(
    'div',
    { class: 'kv tries', dataset: { count: String(s.tries.length) } },
    h('div', { class: 'kv-title', text: `Attempts (${s.tries.length})` }),
    h(
      'ol',
      { class: 'try-list' },
      s.tries.map((t) =>
        h(
          'li',
          { class: 'try', dataset: { attempt: String(t.attempt), status: t.status } },
          h(
            'div',
            { class: 'try-head' },
            h('span', { class: 'try-n', text: `#${t.attempt}` }),
            statusBadge(t.status),
            h('span', { class: 'muted small', text: clock(t.startedAt) }),
            h('span', {
              class: 'try-took',
              text: t.endedAt !== undefined ? duration(t.endedAt - t.startedAt) : 'running',
            }),
          ),
          t.error ? h('div', { class: 'try-error', text: errorText(t.error) }) : null,
        ),
      ),
    ),
  );
}

/** The same step in the attempts time travel replaced, newest first; a record the travel kept as it was is not repeated. */
function compare(view, path, current) {
  const olds = view.attempts
    .map((a) => ({ n: a.attempt, s: a.steps[path] }))
    .filter((x) => x.s && !(current && x.s.startedAt === current.startedAt && x.s.status === current.status))
    .reverse();
  if (!olds.length) return null;
  return h(
    'div',
    { class: 'kv compare' },
    h('div', { class: 'kv-title', text: 'This step in earlier attempts' }),
    olds.map(({ n, s }) =>
      h(
        'div',
        { class: 'compare-row', dataset: { attempt: String(n) } },
        h(
          'div',
          { class: 'compare-head' },
          `Attempt ${n}`,
          statusBadge(s.status),
          s.endedAt !== undefined ? h('span', { class: 'muted small', text: duration(s.endedAt - s.startedAt) }) : null,
        ),
        s.error ? errorDetails(s.error) : jsonView(s.output),
      ),
    ),
  );
}

/** `started …`, `took …` (the last attempt's time and the whole span when retried), `resumed …`. */
function times(s) {
  if (s?.startedAt === undefined) return null;
  const last = s.tries?.at(-1);
  return h(
    'div',
    { class: 'detail-times' },
    h('span', { text: `started ${clock(s.startedAt)}` }),
    s.endedAt !== undefined
      ? h('span', {
          class: 'detail-took',
          text: last
            ? `${s.tries.length} attempts, ${duration(s.endedAt - s.startedAt)} in all (last took ${duration((last.endedAt ?? s.endedAt) - last.startedAt)})`
            : `took ${duration(s.endedAt - s.startedAt)}`,
        })
      : null,
    s.resumedAt !== undefined ? h('span', { text: `resumed ${clock(s.resumedAt)}` }) : null,
  );
}

/**
 * The card of timeline row `row` of run `view`. `onTimeTravel(path)` is offered when the run
 * can travel back to this step; `streamed` is the text its agent has streamed so far, if any.
 */
export function stepDetail(view, row, info, { onTimeTravel, streamed }) {
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
    times(s),
    tries(s),
    s?.error ? h('div', { class: 'kv' }, h('div', { class: 'kv-title', text: 'Error' }), errorDetails(s.error)) : null,
    section('Input', s?.payload),
    section('Suspend payload', s?.suspendPayload),
    section('Resume data', s?.resumePayload),
    streaming(s, streamed),
    section('Output', s?.output),
    usage(s),
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
