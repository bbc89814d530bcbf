// One run's page: loads the run, follows its events live, and lays out header, resume panel, timelines and details.
import { api, followRun } from './api.js';
import { h, replace, toast } from './dom.js';
import { ACTIVE, STATUS_LABEL, ago } from './format.js';
import { jsonView } from './json-view.js';
import { buildRows, renderTimeline, timeRange } from './timeline.js';
import { flowGraph } from './flow-graph.js';
import { timeTravelDialog } from './dialogs.js';
import { createEventLog } from './event-log.js';
import { resumePanel } from './resume-panel.js';
import { runHeader } from './run-header.js';
import { stepDetail } from './step-detail.js';
import { card, errorDetails } from './widgets.js';

/** The step to show first: a suspended, failed or running one, else the last that ran. */
function defaultSelection(rows) {
  const by = (status) => rows.find((r) => r.result?.status === status);
  const pick =
    by('suspended') ?? by('failed') ?? by('running') ?? rows.filter((r) => r.result && r.kind !== 'item').at(-1);
  return pick?.path ?? null;
}

/** Opens the page of run `runId` in `main`. Returns a function that closes it (stops streams and timers). */
export function openRunView(main, runId, app) {
  const state = {
    view: null,
    info: null,
    events: [],
    foreach: {},
    selected: null,
    follower: null,
    suspendKey: null,
    disposed: false,
    /** The text each agent step has streamed in its current attempt, by step id. */
    streams: {},
  };
  const log = createEventLog();
  const els = {
    header: h('div', { class: 'run-header' }),
    suspend: h('div'),
    graph: h('div', { class: 'graph-slot' }),
    timelines: h('div', { class: 'timelines' }),
    detail: h('div', { class: 'detail' }),
    io: h('div', { class: 'io-grid' }),
  };
  replace(
    main,
    h(
      'div',
      { class: 'run-page', dataset: { runId } },
      els.header,
      els.suspend,
      h(
        'div',
        { class: 'run-grid' },
        h('div', { class: 'run-col' }, els.graph, els.timelines, els.io),
        h('div', { class: 'run-col run-side' }, els.detail, log.el),
      ),
    ),
  );

  let reloadTimer;
  const scheduleReload = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void load(), 120);
  };
  const lastSeenSeq = () => state.events.at(-1)?.seq ?? 0;

  const load = async () => {
    try {
      const view = await api(`/runs/${encodeURIComponent(runId)}`);
      if (state.disposed) return;
      if (state.view && state.view.status !== view.status) app.runChanged?.();
      state.view = view;
      state.info = app.workflows.find((w) => w.id === view.workflowId) ?? null;
      render();
      if (!state.follower && (ACTIVE.includes(view.status) || view.lastSeq > lastSeenSeq())) connect();
    } catch (error) {
      if (state.disposed) return;
      if (error.status === 404) {
        replace(
          main,
          h(
            'div',
            { class: 'empty' },
            h('h2', { text: 'Run not found' }),
            h('p', { class: 'muted', text: `No run "${runId}" in this store; it may have been deleted.` }),
          ),
        );
      } else toast(error.message, 'error');
    }
  };

  const connect = () => {
    state.follower?.close();
    state.follower = followRun(runId, {
      afterSeq: lastSeenSeq(),
      onConnection: (on) => log.setLive(on),
      onEvent: (event) => {
        addEvent(event);
        // A step's output changes nothing the run's view shows: an agent streaming its answer does not
        // put the reload off until it has finished.
        if (event.type !== 'workflow-step-output') scheduleReload();
      },
      onEnd: () => {
        state.follower = null;
        scheduleReload();
      },
    });
  };

  const addEvent = (event) => {
    if (state.events.length && event.seq <= lastSeenSeq()) return;
    state.events.push(event);
    const p = event.payload ?? {};
    if (event.type === 'workflow-start') state.foreach = {};
    if (event.type === 'workflow-step-output' && p.output?.from === 'AGENT') streamChunk(p.stepName, p.output);
    if (event.type === 'workflow-step-progress' && p.currentIndex !== undefined) {
      (state.foreach[p.id] ??= {})[p.currentIndex] = { status: p.iterationStatus, output: p.iterationOutput };
    }
    log.add(event);
  };

  /** An agent's chunk: a `start` begins its text again (a new attempt), a `text-delta` adds to it. */
  const streamChunk = (stepId, chunk) => {
    if (chunk.type === 'start') state.streams[stepId] = '';
    else if (chunk.type === 'text-delta' && typeof chunk.payload?.text === 'string')
      state.streams[stepId] = (state.streams[stepId] ?? '') + chunk.payload.text;
    else return;
    if (state.view && state.selected === stepId) renderDetail();
  };

  const changed = () => {
    if (!state.follower) connect();
    scheduleReload();
  };

  const act = async (label, path, body) => {
    try {
      const out = await api(`/runs/${encodeURIComponent(runId)}/${path}`, { method: 'POST', body });
      toast(`${label}: ${STATUS_LABEL[out.status] ?? out.status}`, 'success');
      changed();
    } catch (error) {
      toast(`${label} failed: ${error.message}`, 'error');
    }
  };

  const travelFrom = async (path) => {
    if (await timeTravelDialog(state.view, state.info, path)) {
      toast('Time travel started', 'success');
      changed();
    }
  };

  const rowsOf = (steps) =>
    steps === state.view.steps
      ? buildRows(state.info, steps, state.view.foreachItems ?? {}, state.foreach)
      : buildRows(state.info, steps);

  const select = (path) => {
    state.selected = path;
    renderGraph();
    renderTimelines();
    renderDetail();
  };

  const renderGraph = () => {
    const info = state.info;
    replace(
      els.graph,
      info
        ? h(
            'section',
            { class: 'card graph-card' },
            h('h3', { class: 'card-title', text: 'Graph' }),
            flowGraph(info.stepGraph, { steps: state.view.steps, onSelect: select, selected: state.selected }),
          )
        : null,
    );
  };

  const renderTimelines = () => {
    const v = state.view;
    const now = Date.now();
    const rows = rowsOf(v.steps);
    // After a time travel, records kept from before it keep their old times: they are marked, not drawn on this attempt's axis.
    const replaced = v.attempts.at(-1)?.steps;
    if (replaced)
      for (const r of rows) {
        const before = replaced[r.path];
        if (before && r.result && r.kind !== 'item' && before.startedAt === r.result.startedAt) r.kept = true;
      }
    if (!state.selected || !rows.some((r) => r.path === state.selected)) state.selected = defaultSelection(rows);
    const live = ACTIVE.includes(v.status) || v.status === 'suspended';
    const n = v.attempts.length + 1;
    const current = h(
      'section',
      { class: 'card attempt', dataset: { attempt: String(n), current: 'true' } },
      h(
        'div',
        { class: 'card-title attempt-title' },
        n > 1 ? `Attempt ${n}` : 'Steps',
        n > 1 ? h('span', { class: 'tag tag-current', text: 'current' }) : null,
      ),
      renderTimeline(rows, {
        range: timeRange(
          rows.filter((r) => !r.kept),
          { createdAt: v.createdAt, now, live },
        ),
        now,
        selected: state.selected,
        onSelect: select,
        label: 'current attempt',
      }),
    );
    const earlier = [...v.attempts].reverse().map((a) => {
      const arows = rowsOf(a.steps);
      return h(
        'section',
        { class: 'card attempt attempt-old', dataset: { attempt: String(a.attempt) } },
        h(
          'div',
          { class: 'card-title attempt-title' },
          `Attempt ${a.attempt}`,
          h('span', { class: 'tag', text: `replaced by time travel ${ago(a.startedAt)}` }),
        ),
        renderTimeline(arows, {
          range: timeRange(arows, { createdAt: v.createdAt, now, live: false }),
          now,
          selected: state.selected,
          onSelect: select,
          label: `attempt ${a.attempt}`,
        }),
      );
    });
    replace(els.timelines, current, earlier);
  };

  const renderDetail = () => {
    const row = rowsOf(state.view.steps).find((r) => r.path === state.selected);
    replace(
      els.detail,
      stepDetail(state.view, row, state.info, { onTimeTravel: travelFrom, streamed: state.streams[state.selected] }),
    );
  };

  const renderSuspend = () => {
    const v = state.view;
    const key = v.status === 'suspended' ? `${v.lastSeq}:${JSON.stringify(v.suspended)}` : null;
    if (key === state.suspendKey) return; // keep what the person is typing
    state.suspendKey = key;
    replace(els.suspend, key ? resumePanel(v, state.info, { onResumed: changed }) : null);
  };

  const renderHeader = () => {
    replace(
      els.header,
      runHeader(state.view, { app, info: state.info, selected: state.selected, act, onChanged: changed }),
    );
  };

  const renderIo = () => {
    const v = state.view;
    const result =
      v.status === 'success'
        ? card('Result', jsonView(v.result))
        : v.status === 'failed'
          ? card('Error', errorDetails(v.error))
          : card(
              'Result',
              h('p', {
                class: 'muted',
                text:
                  v.status === 'suspended'
                    ? 'Not yet: the run waits for a resume.'
                    : v.status === 'canceled'
                      ? 'None: the run was canceled.'
                      : 'Not yet.',
              }),
            );
    replace(
      els.io,
      card('Input', jsonView(v.payload)),
      result,
      v.state && Object.keys(v.state).length ? card('State', jsonView(v.state)) : null,
    );
  };

  const render = () => {
    if (!state.view) return;
    renderGraph();
    renderTimelines();
    renderHeader();
    renderSuspend();
    renderDetail();
    renderIo();
  };

  const ticker = setInterval(() => {
    if (state.view && ACTIVE.includes(state.view.status) && !document.hidden) {
      renderHeader();
      renderTimelines();
    }
  }, 500);
  // Without a stream, and while the run is active (a failed attempt of a retried step and a lease
  // running out are stored without an event), the page reads the run again every 3 s.
  const poller = setInterval(() => {
    if ((!state.follower || ACTIVE.includes(state.view?.status)) && !document.hidden) void load();
  }, 3000);

  void load();
  return () => {
    state.disposed = true;
    clearInterval(ticker);
    clearInterval(poller);
    clearTimeout(reloadTimer);
    state.follower?.close();
  };
}
