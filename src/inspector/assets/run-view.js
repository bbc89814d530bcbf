// One run's page: header and actions, the resume form, timelines of the current and earlier attempts, step details, live events.
import { api, followRun } from './api.js';
import { h, replace, toast } from './dom.js';
import { ACTIVE, STATUS_LABEL, ago, clock, dateTime, duration, errorText, preview } from './format.js';
import { jsonView } from './json-view.js';
import { schemaForm } from './schema-form.js';
import { buildRows, renderTimeline, timeRange } from './timeline.js';
import { confirmDialog, errorBox, jsonDialog, newRunDialog, timeTravelDialog } from './dialogs.js';

const MAX_EVENTS_SHOWN = 400;

/** A status pill. */
export function statusBadge(status, big = false) {
  return h('span', { class: ['badge', `badge-${status}`, big && 'badge-big'], dataset: { status }, text: STATUS_LABEL[status] ?? status });
}

function card(title, ...body) {
  return h('section', { class: 'card' }, title ? h('h3', { class: 'card-title', text: title }) : null, ...body);
}

function errorDetails(error) {
  if (!error) return null;
  const chain = [];
  let e = error;
  while (e && typeof e === 'object' && chain.length < 5) { chain.push(e); e = e.cause; }
  return h('div', { class: 'error-box' },
    chain.map((err, i) => h('div', { class: 'error-line' }, i > 0 ? h('span', { class: 'muted', text: 'caused by ' }) : null, h('strong', { text: err.name ?? 'Error' }), ': ', err.message ?? String(err))),
    Object.keys(error).some((k) => !['name', 'message', 'cause', 'stack'].includes(k)) ? jsonView(Object.fromEntries(Object.entries(error).filter(([k]) => !['name', 'message', 'cause', 'stack'].includes(k)))) : null);
}

/** Opens the page of run `runId` in `main`. Returns a function that closes it (stops streams and timers). */
export function openRunView(main, runId, app) {
  const state = { view: null, info: null, events: [], foreach: {}, selected: null, live: false, follower: null, suspendKey: null, disposed: false, lastRendered: 0 };
  const els = {
    header: h('div', { class: 'run-header' }),
    notice: h('div'),
    suspend: h('div'),
    timelines: h('div', { class: 'timelines' }),
    detail: h('div', { class: 'detail' }),
    io: h('div', { class: 'io-grid' }),
    events: h('div', { class: 'events-list', attrs: { role: 'log', 'aria-label': 'Live events' } }),
    liveDot: h('span', { class: 'live-dot', title: 'Live stream' }),
    eventCount: h('span', { class: 'muted small' }),
  };
  replace(main, h('div', { class: 'run-page', dataset: { runId } },
    els.header, els.notice, els.suspend,
    h('div', { class: 'run-grid' },
      h('div', { class: 'run-col' }, els.timelines, els.io),
      h('div', { class: 'run-col run-side' }, els.detail,
        h('section', { class: 'card events-card' }, h('div', { class: 'card-title events-title' }, 'Events ', els.liveDot, els.eventCount), els.events)))));

  let reloadTimer;
  const scheduleReload = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void load(), 120);
  };

  const load = async () => {
    try {
      const view = await api(`/runs/${encodeURIComponent(runId)}`);
      if (state.disposed) return;
      state.view = view;
      state.info = app.workflows.find((w) => w.id === view.workflowId) ?? null;
      render();
      if (!state.follower && (ACTIVE.includes(view.status) || view.lastSeq > lastSeenSeq())) connect();
    } catch (error) {
      if (state.disposed) return;
      if (error.status === 404) replace(main, h('div', { class: 'empty' }, h('h2', { text: 'Run not found' }), h('p', { class: 'muted', text: `No run "${runId}" in this store; it may have been deleted.` })));
      else toast(error.message, 'error');
    }
  };

  const lastSeenSeq = () => state.events.at(-1)?.seq ?? 0;

  const connect = () => {
    state.follower?.close();
    state.follower = followRun(runId, {
      afterSeq: lastSeenSeq(),
      onConnection: (on) => { state.live = on; els.liveDot.classList.toggle('on', on); },
      onEvent: (event) => { addEvent(event); scheduleReload(); },
      onEnd: () => { state.follower = null; scheduleReload(); },
    });
  };

  const addEvent = (event) => {
    if (state.events.length && event.seq <= lastSeenSeq()) return;
    state.events.push(event);
    const p = event.payload ?? {};
    if (event.type === 'workflow-step-progress' && p.currentIndex !== undefined) {
      (state.foreach[p.id] ??= {})[p.currentIndex] = { status: p.iterationStatus, output: p.iterationOutput };
    }
    if (event.type === 'workflow-start') state.foreach = {};
    const atBottom = els.events.scrollHeight - els.events.scrollTop - els.events.clientHeight < 40;
    els.events.append(eventRow(event));
    while (els.events.childElementCount > MAX_EVENTS_SHOWN) els.events.firstElementChild?.remove();
    els.eventCount.textContent = `${state.events.length}`;
    if (atBottom) els.events.scrollTop = els.events.scrollHeight;
  };

  const eventRow = (event) => {
    const p = event.payload ?? {};
    const step = p.id ?? p.stepName ?? '';
    const status = p.status ?? p.workflowStatus ?? p.iterationStatus;
    let summary = '';
    if (event.type === 'workflow-step-progress') summary = `${p.completedCount}/${p.totalCount} items`;
    else if (p.error) summary = errorText(p.error);
    else if (event.type === 'workflow-step-suspended') summary = preview(p.suspendPayload, 60);
    else if (event.type === 'workflow-step-result') summary = preview(p.output, 60);
    else if (event.type.startsWith('data-')) summary = preview(event.data, 60);
    else if (event.type === 'workflow-step-output') summary = preview(p.output, 60);
    return h('button', { type: 'button', class: 'event-row', dataset: { type: event.type }, onclick: () => void jsonDialog(`Event #${event.seq} · ${event.type}`, event) },
      h('span', { class: 'ev-seq', text: `#${event.seq}` }),
      h('span', { class: ['ev-type', status && `ev-${status}`], text: event.type.replace(/^workflow-/, '') }),
      h('span', { class: 'ev-step', text: step }),
      h('span', { class: 'ev-summary', text: summary }));
  };

  const act = async (label, path, body) => {
    try {
      const out = await api(`/runs/${encodeURIComponent(runId)}/${path}`, { method: 'POST', body });
      toast(`${label}: ${STATUS_LABEL[out.status] ?? out.status}`, 'success');
      if (!state.follower) connect();
      scheduleReload();
      return true;
    } catch (error) {
      toast(`${label} failed: ${error.message}`, 'error');
      return false;
    }
  };

  const renderHeader = () => {
    const v = state.view;
    const started = new Date(v.createdAt).getTime();
    const ended = ['success', 'failed', 'canceled'].includes(v.status) ? new Date(v.updatedAt).getTime() : Date.now();
    const loaded = v.workflowLoaded;
    const finished = ['success', 'failed', 'canceled'].includes(v.status);
    const actions = [
      ['running', 'waiting', 'pending', 'suspended', 'paused'].includes(v.status) && loaded
        ? h('button', { class: 'btn btn-danger-quiet', type: 'button', text: 'Cancel', onclick: async () => { if (await confirmDialog('Cancel this run?', `Run ${v.runId} stops now; a step in flight gets its abort signal.`, 'Cancel run', true)) await act('Cancel', 'cancel'); } })
        : null,
      ['running', 'waiting'].includes(v.status) && loaded
        ? h('button', { class: 'btn', type: 'button', text: 'Restart', title: 'Continue a run whose process died, from its last finished step', onclick: () => act('Restart', 'restart', {}) })
        : null,
      !['running', 'waiting'].includes(v.status) && loaded
        ? h('button', { class: 'btn', type: 'button', text: 'Time travel…', onclick: async () => { if (await timeTravelDialog(v, state.info, state.selected && !state.selected.includes('[') ? state.selected : undefined)) { toast('Time travel started', 'success'); if (!state.follower) connect(); scheduleReload(); } } })
        : null,
      loaded
        ? h('button', { class: 'btn', type: 'button', text: 'Run again', title: 'Start a new run with the same input', onclick: async () => { const id = await newRunDialog(app.workflows, { workflowId: v.workflowId, inputData: v.payload }); if (id) app.navigate(`#/runs/${encodeURIComponent(id)}`); } })
        : null,
      finished || v.status === 'suspended' || v.status === 'paused'
        ? h('button', { class: 'btn btn-ghost', type: 'button', text: 'Delete', onclick: async () => { if (await confirmDialog('Delete this run?', `Run ${v.runId} and its history are removed for good.`, 'Delete', true)) { try { await api(`/runs/${encodeURIComponent(runId)}`, { method: 'DELETE' }); toast('Run deleted', 'success'); app.navigate('#/'); } catch (e) { toast(e.message, 'error'); } } } })
        : null,
    ];
    replace(els.header,
      h('div', { class: 'run-title' },
        h('div', {},
          h('div', { class: 'crumb' }, h('a', { href: '#/', text: 'Runs' }), ' / ', v.workflowId),
          h('h1', {}, h('span', { text: v.workflowId }), statusBadge(v.status, true)),
          h('div', { class: 'run-meta' },
            h('span', { class: 'mono copy', title: 'Copy the run id', text: v.runId, onclick: () => { void navigator.clipboard?.writeText(v.runId); toast('Run id copied'); } }),
            h('span', { text: `started ${dateTime(v.createdAt)}` }),
            h('span', { text: finished ? `took ${duration(ended - started)}` : v.status === 'suspended' ? `suspended ${ago(v.updatedAt)}` : `running for ${duration(ended - started)}` }),
            v.resourceId ? h('span', { text: `resource ${v.resourceId}` }) : null,
            v.attempts.length ? h('span', { class: 'tag tag-attempt', text: `attempt ${v.attempts.length + 1}` }) : null)),
        h('div', { class: 'run-actions' }, actions)));
    replace(els.notice,
      !loaded ? h('div', { class: 'notice' }, `The workflow "${v.workflowId}" is not loaded on this server, so this run can be read but not operated. Serve a --workflows file that defines it.`) : null,
      v.status === 'failed' && v.error ? h('div', { class: 'banner banner-failed' }, h('strong', { text: 'The run failed. ' }), errorText(v.error)) : null,
      v.status === 'waiting' ? h('div', { class: 'banner banner-waiting', text: 'Sleeping durably: the run wakes at its set time, even if the server restarts.' }) : null);
  };

  const renderSuspend = () => {
    const v = state.view;
    const key = v.status === 'suspended' ? `${v.lastSeq}:${JSON.stringify(v.suspended)}` : null;
    if (key === state.suspendKey) return;
    state.suspendKey = key;
    if (!key) { els.suspend.replaceChildren(); return; }
    const paths = (v.suspended ?? []).map((p) => p.join('.'));
    let current = paths[0];
    const formSlot = h('div');
    const payloadSlot = h('div');
    const errorSlot = h('div');
    let form;
    const pick = (path) => {
      current = path;
      const stepInfo = state.info?.steps[path];
      const top = path.split('.')[0];
      const stored = v.steps[path] ?? v.steps[top];
      const payload = stored?.suspendPayload ?? v.suspendPayload?.[top];
      replace(payloadSlot, payload !== undefined ? h('div', { class: 'suspend-payload' }, h('div', { class: 'muted small', text: 'The step asked:' }), jsonView(payload)) : null);
      form = schemaForm(stepInfo?.resumeSchema, { name: 'resume' });
      replace(formSlot, form.el);
    };
    pick(current);
    const submit = h('button', { class: 'btn btn-primary', type: 'submit', text: 'Resume run', disabled: !v.workflowLoaded });
    replace(els.suspend, h('section', { class: 'card resume-card', dataset: { testid: 'resume-panel' } },
      h('div', { class: 'resume-head' },
        h('div', {}, h('h3', { class: 'card-title', text: 'Waiting for you' }),
          h('p', { class: 'muted', text: `Suspended at ${paths.join(', ')}. Fill in the resume data to continue.` })),
        paths.length > 1 ? h('select', { attrs: { 'aria-label': 'Suspended step' }, onchange: (e) => pick(e.target.value) }, paths.map((p) => h('option', { value: p, text: p }))) : null),
      h('form', {
        class: 'resume-form',
        onsubmit: async (e) => {
          e.preventDefault();
          const { value, errors } = form.read();
          if (errors.length) { replace(errorSlot, h('div', { class: 'form-error', role: 'alert', text: errors.join('; ') })); return; }
          submit.disabled = true;
          try {
            await api(`/runs/${encodeURIComponent(runId)}/resume`, { method: 'POST', body: { resumeData: value, ...(paths.length > 1 ? { step: current } : {}) } });
            replace(errorSlot);
            toast('Resumed', 'success');
            if (!state.follower) connect();
            scheduleReload();
          } catch (error) {
            replace(errorSlot, errorBox(error));
            submit.disabled = false;
          }
        },
      }, h('div', { class: 'resume-grid' }, payloadSlot, h('div', {}, formSlot, errorSlot, h('div', { class: 'form-actions' }, submit))))));
  };

  const rowsOf = (steps) => buildRows(state.info, steps, steps === state.view.steps ? state.foreach : {});

  const renderTimelines = () => {
    const v = state.view;
    const now = Date.now();
    const rows = rowsOf(v.steps);
    if (!state.selected || !rows.some((r) => r.path === state.selected)) {
      const pick = rows.find((r) => r.result?.status === 'suspended') ?? rows.find((r) => r.result?.status === 'failed') ?? rows.find((r) => r.result?.status === 'running') ?? rows.filter((r) => r.result && r.kind !== 'item').at(-1);
      state.selected = pick?.path ?? null;
    }
    const onSelect = (path) => { state.selected = path; renderTimelines(); renderDetail(); };
    const live = ACTIVE.includes(v.status) || v.status === 'suspended';
    const current = renderTimeline(rows, { range: timeRange(rows, { createdAt: v.createdAt, now, live }), now, selected: state.selected, onSelect, label: 'current attempt' });
    const n = v.attempts.length + 1;
    replace(els.timelines,
      h('section', { class: 'card attempt', dataset: { attempt: String(n), current: 'true' } },
        h('div', { class: 'card-title attempt-title' }, n > 1 ? `Attempt ${n}` : 'Steps', n > 1 ? h('span', { class: 'tag tag-current', text: 'current' }) : null), current),
      [...v.attempts].reverse().map((a) => {
        const arows = rowsOf(a.steps);
        return h('section', { class: 'card attempt attempt-old', dataset: { attempt: String(a.attempt) } },
          h('div', { class: 'card-title attempt-title' }, `Attempt ${a.attempt}`, h('span', { class: 'tag', text: `replaced by time travel ${ago(a.startedAt)}` })),
          renderTimeline(arows, { range: timeRange(arows, { createdAt: v.createdAt, now, live: false }), now, selected: state.selected, onSelect, label: `attempt ${a.attempt}` }));
      }));
  };

  const renderDetail = () => {
    const v = state.view;
    const path = state.selected;
    if (!path) { replace(els.detail, card('Step', h('p', { class: 'muted', text: 'No step has run yet.' }))); return; }
    const rows = rowsOf(v.steps);
    const row = rows.find((r) => r.path === path);
    const s = row?.result;
    const stepInfo = state.info?.steps[row?.parentPath ?? path];
    const section = (title, value) => (value === undefined ? null : h('div', { class: 'kv' }, h('div', { class: 'kv-title', text: title }), jsonView(value)));
    const olds = v.attempts.map((a) => ({ n: a.attempt, s: a.steps[path] })).filter((x) => x.s);
    const canTravel = v.workflowLoaded && !['running', 'waiting'].includes(v.status) && row && row.kind !== 'item' && row.kind !== 'group';
    replace(els.detail, h('section', { class: 'card detail-card', dataset: { step: path } },
      h('div', { class: 'detail-head' },
        h('div', {}, h('div', { class: 'muted small', text: row?.kind === 'item' ? 'foreach item' : row?.kind === 'workflow' ? 'nested workflow' : 'step' }),
          h('h3', { class: 'detail-title', text: path })),
        s ? statusBadge(s.status) : statusBadge('not-run')),
      stepInfo?.description ? h('p', { class: 'muted', text: stepInfo.description }) : null,
      s?.startedAt !== undefined ? h('div', { class: 'detail-times' },
        h('span', { text: `started ${clock(s.startedAt)}` }),
        s.endedAt !== undefined ? h('span', { text: `took ${duration(s.endedAt - s.startedAt)}` }) : null,
        s.resumedAt !== undefined ? h('span', { text: `resumed ${clock(s.resumedAt)}` }) : null) : null,
      s?.error ? h('div', { class: 'kv' }, h('div', { class: 'kv-title', text: 'Error' }), errorDetails(s.error)) : null,
      section('Input', s?.payload),
      section('Suspend payload', s?.suspendPayload),
      section('Resume data', s?.resumePayload),
      section('Output', s?.output),
      olds.length ? h('div', { class: 'kv compare' }, h('div', { class: 'kv-title', text: 'Earlier attempts of this step' }),
        h('div', { class: 'compare-grid' }, olds.map(({ n, s: o }) => h('div', { class: 'compare-col' }, h('div', { class: 'compare-head' }, `Attempt ${n} `, statusBadge(o.status)), jsonView(o.error ?? o.output))),
          h('div', { class: 'compare-col' }, h('div', { class: 'compare-head' }, `Attempt ${v.attempts.length + 1} `, s ? statusBadge(s.status) : statusBadge('not-run')), jsonView(s?.error ?? s?.output)))) : null,
      canTravel ? h('div', { class: 'form-actions' }, h('button', { class: 'btn', type: 'button', text: 'Time travel from this step', onclick: async () => { if (await timeTravelDialog(v, state.info, path)) { toast('Time travel started', 'success'); if (!state.follower) connect(); scheduleReload(); } } })) : null));
  };

  const renderIo = () => {
    const v = state.view;
    replace(els.io,
      card('Input', jsonView(v.payload)),
      v.status === 'success' ? card('Result', jsonView(v.result)) : v.status === 'failed' ? card('Error', errorDetails(v.error)) : card('Result', h('p', { class: 'muted', text: v.status === 'suspended' ? 'Not yet: the run waits for a resume.' : 'Not yet.' })),
      v.state && Object.keys(v.state).length ? card('State', jsonView(v.state)) : null);
  };

  const render = () => {
    if (!state.view) return;
    renderHeader();
    renderSuspend();
    renderTimelines();
    renderDetail();
    renderIo();
    state.lastRendered = Date.now();
  };

  const ticker = setInterval(() => {
    if (state.view && ACTIVE.includes(state.view.status) && !document.hidden) { renderHeader(); renderTimelines(); }
  }, 500);
  const poller = setInterval(() => { if (!state.follower && !document.hidden) void load(); }, 3000);

  void load();
  return () => {
    state.disposed = true;
    clearInterval(ticker);
    clearInterval(poller);
    clearTimeout(reloadTimer);
    state.follower?.close();
  };
}
