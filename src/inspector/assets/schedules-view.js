// The schedules page: each stored schedule with its cron, next fire, policies and recent runs; pause, resume, trigger.
import { api } from './api.js';
import { h, replace, toast } from './dom.js';
import { ago, dateTime } from './format.js';
import { statusBadge } from './widgets.js';

/** `in 3 s`, `in 5 min`, or the date. */
function inTime(value, now = Date.now()) {
  const t = new Date(value).getTime();
  const d = t - now;
  if (d < 0) return 'due';
  if (d < 60_000) return `in ${Math.max(1, Math.round(d / 1000))} s`;
  if (d < 3_600_000) return `in ${Math.round(d / 60_000)} min`;
  return dateTime(t);
}

function runLink(run) {
  return h(
    'a',
    {
      class: 'schedule-run',
      href: `#/runs/${encodeURIComponent(run.runId)}`,
      title: `${run.runId}${run.manual ? ' (triggered)' : ''}`,
      dataset: { runId: run.runId },
    },
    statusBadge(run.status ?? 'deleted'),
    h('span', { class: 'muted small', text: `${ago(run.fireAt)}${run.manual ? ' · triggered' : ''}` }),
  );
}

function scheduleRow(s, act) {
  const button = (text, action, cls = '') =>
    h('button', { class: `btn btn-small ${cls}`, type: 'button', text, onclick: () => act(s.scheduleId, action) });
  return h(
    'tr',
    { dataset: { schedule: s.scheduleId, paused: String(s.paused) } },
    h(
      'td',
      {},
      h('div', { class: 'schedule-id', text: s.scheduleId }),
      h('div', { class: 'muted small', text: s.workflowId }),
    ),
    h('td', {}, h('code', { text: s.cron }), s.timezone ? h('div', { class: 'muted small', text: s.timezone }) : null),
    h(
      'td',
      { class: 'schedule-next' },
      s.paused
        ? h('span', { class: 'pill schedule-paused', text: 'paused' })
        : s.nextFireAt
          ? h('span', { title: dateTime(s.nextFireAt), text: inTime(s.nextFireAt) })
          : h('span', { class: 'muted', text: 'never again' }),
    ),
    h('td', { class: 'muted small', text: `catchup ${s.catchup} · overlap ${s.overlap}` }),
    h(
      'td',
      { class: 'schedule-runs' },
      s.recentRuns.length === 0 ? h('span', { class: 'muted small', text: 'no fire yet' }) : s.recentRuns.map(runLink),
    ),
    h(
      'td',
      { class: 'schedule-actions' },
      s.paused ? button('Resume', 'resume', 'btn-primary') : button('Pause', 'pause'),
      button('Trigger now', 'trigger'),
    ),
  );
}

/** Renders the schedules page in `main`, refreshed every 2 s. Returns a function that stops it. */
export function renderSchedules(main, app) {
  let stopped = false;
  const body = h('div', { class: 'schedules-body' }, h('div', { class: 'muted', text: 'Loading…' }));
  const act = async (scheduleId, action) => {
    try {
      const answer = await api(`/schedules/${encodeURIComponent(scheduleId)}/${action}`, { method: 'POST' });
      if (action === 'trigger') {
        toast(`Triggered ${scheduleId}`, 'success');
        app.runChanged();
        if (answer.startedHere) app.navigate(`#/runs/${encodeURIComponent(answer.runId)}`);
      } else toast(`${action === 'pause' ? 'Paused' : 'Resumed'} ${scheduleId}`, 'success');
      await refresh();
    } catch (error) {
      toast(error.message, 'error');
    }
  };
  const refresh = async () => {
    let list;
    try {
      list = (await api('/schedules?recentRuns=8')).schedules;
    } catch (error) {
      if (!stopped) replace(body, h('div', { class: 'empty' }, h('p', { class: 'muted', text: error.message })));
      return;
    }
    if (stopped) return;
    if (list.length === 0) {
      replace(
        body,
        h(
          'div',
          { class: 'empty' },
          h('h2', { text: 'No schedules' }),
          h(
            'p',
            { class: 'muted' },
            'A workflow fires on a cron once it declares one, and a process serving it runs: ',
            h('code', { text: "createWorkflow({ ..., schedule: { cron: '0 9 * * *' } })" }),
          ),
        ),
      );
      return;
    }
    replace(
      body,
      h(
        'table',
        { class: 'schedules-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Schedule', 'Cron', 'Next fire', 'Policies', 'Recent runs', ''].map((t) => h('th', { text: t })),
          ),
        ),
        h(
          'tbody',
          {},
          list.map((s) => scheduleRow(s, act)),
        ),
      ),
    );
  };
  replace(
    main,
    h(
      'div',
      { class: 'schedules' },
      h(
        'div',
        { class: 'home-head' },
        h('h1', { text: 'Schedules' }),
        h('p', {
          class: 'muted',
          text: 'Cron schedules declared by the workflows, with their next fire and recent runs.',
        }),
      ),
      h('section', { class: 'card' }, body),
    ),
  );
  void refresh();
  const timer = setInterval(() => {
    if (!document.hidden) void refresh();
  }, 2000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
