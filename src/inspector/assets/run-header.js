// The top of a run page: workflow, status, ids and times, the action buttons, and notices (failed, sleeping, not loaded).
import { api } from './api.js';
import { h, toast } from './dom.js';
import { ago, dateTime, duration, errorText } from './format.js';
import { confirmDialog, newRunDialog, timeTravelDialog } from './dialogs.js';
import { statusBadge } from './widgets.js';

const FINISHED = ['success', 'failed', 'canceled'];

/**
 * The header of run `view`. `ctx`: `app` (workflows, navigate), `info` (the workflow's
 * description), `selected` (step path for time travel), `act(label, path, body)` to call a run
 * action, `onChanged()` after a time travel started.
 */
export function runHeader(view, ctx) {
  const v = view;
  const started = new Date(v.createdAt).getTime();
  const finished = FINISHED.includes(v.status);
  const ended = finished ? new Date(v.updatedAt).getTime() : Date.now();
  const loaded = v.workflowLoaded;
  const active = ['running', 'waiting'].includes(v.status);
  const button = (text, onclick, cls = 'btn', title) =>
    h('button', { class: cls, type: 'button', text, title, onclick });

  const cancel = async () => {
    const ok = await confirmDialog(
      'Cancel this run?',
      `Run ${v.runId} stops now; a step in flight gets its abort signal.`,
      'Cancel run',
      true,
    );
    if (ok) await ctx.act('Cancel', 'cancel');
  };
  const travel = async () => {
    const step = ctx.selected && !ctx.selected.includes('[') ? ctx.selected : undefined;
    if (await timeTravelDialog(v, ctx.info, step)) {
      toast('Time travel started', 'success');
      ctx.onChanged();
    }
  };
  const again = async () => {
    const id = await newRunDialog(ctx.app.workflows, { workflowId: v.workflowId, inputData: v.payload });
    if (id) ctx.app.navigate(`#/runs/${encodeURIComponent(id)}`);
  };
  const remove = async () => {
    if (
      !(await confirmDialog('Delete this run?', `Run ${v.runId} and its history are removed for good.`, 'Delete', true))
    )
      return;
    try {
      await api(`/runs/${encodeURIComponent(v.runId)}`, { method: 'DELETE' });
      toast('Run deleted', 'success');
      ctx.app.navigate('#/');
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  const copy = () => {
    void navigator.clipboard?.writeText(v.runId);
    toast('Run id copied');
  };

  const actions = [
    loaded && !finished ? button('Cancel', cancel, 'btn btn-danger-quiet') : null,
    loaded && active
      ? button(
          'Restart',
          () => ctx.act('Restart', 'restart', {}),
          'btn',
          'Continue a run whose process died, from its last finished step',
        )
      : null,
    loaded && !active ? button('Time travel…', travel) : null,
    loaded ? button('Run again', again, 'btn', 'Start a new run with the same input') : null,
    !active && v.status !== 'pending' ? button('Delete', remove, 'btn btn-ghost') : null,
  ];
  const age = finished
    ? `took ${duration(ended - started)}`
    : v.status === 'suspended'
      ? `suspended ${ago(v.updatedAt)}`
      : `running for ${duration(ended - started)}`;

  return h(
    'div',
    {},
    h(
      'div',
      { class: 'run-title' },
      h(
        'div',
        {},
        h('div', { class: 'crumb' }, h('a', { href: '#/', text: 'Runs' }), ' / ', v.workflowId),
        h('h1', {}, h('span', { text: v.workflowId }), statusBadge(v.status, true)),
        h(
          'div',
          { class: 'run-meta' },
          h('span', { class: 'mono copy', title: 'Copy the run id', text: v.runId, onclick: copy }),
          h('span', { text: `started ${dateTime(v.createdAt)}` }),
          h('span', { text: age }),
          v.resourceId ? h('span', { text: `resource ${v.resourceId}` }) : null,
          v.attempts.length ? h('span', { class: 'tag tag-attempt', text: `attempt ${v.attempts.length + 1}` }) : null,
        ),
      ),
      h('div', { class: 'run-actions' }, actions),
    ),
    !loaded
      ? h(
          'div',
          { class: 'notice' },
          `The workflow "${v.workflowId}" is not loaded on this server, so this run can be read but not operated. Serve a --workflows file that defines it.`,
        )
      : null,
    v.status === 'failed' && v.error
      ? h('div', { class: 'banner banner-failed' }, h('strong', { text: 'The run failed. ' }), errorText(v.error))
      : null,
    v.status === 'waiting'
      ? h('div', {
          class: 'banner banner-waiting',
          text: 'Sleeping durably: the run wakes at its set time, even if the server restarts.',
        })
      : null,
  );
}
