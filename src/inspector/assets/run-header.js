// The top of a run page: workflow, status, ids and times, the action buttons, and notices (failed, sleeping, not loaded).
import { api } from './api.js';
import { h, toast } from './dom.js';
import { STATUS_LABEL, ago, dateTime, duration, errorText } from './format.js';
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
  // After a time travel, the current attempt began with it: the idle time before does not count.
  const travelledAt = v.attempts.at(-1)?.startedAt;
  const started = travelledAt ?? new Date(v.createdAt).getTime();
  const finished = FINISHED.includes(v.status);
  const ended = finished ? new Date(v.updatedAt).getTime() : Date.now();
  const loaded = v.workflowLoaded;
  const active = ['running', 'waiting'].includes(v.status);
  const orphaned = active && v.lease?.expired === true;
  /** A button that keeps its place: when it does not apply, it is disabled and says why. */
  const button = (text, onclick, cls, title, why) =>
    h('button', {
      class: cls ?? 'btn',
      type: 'button',
      text,
      title: why ?? title,
      disabled: Boolean(why),
      dataset: { action: text.replace(/\W+/g, '-').replace(/-$/, '').toLowerCase() },
      onclick,
    });
  const notLoaded = loaded ? undefined : 'The workflow is not loaded on this server';

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

  const restart = async () => {
    const ok = await confirmDialog(
      'Restart this run?',
      `The process that ran ${v.runId} is gone: its lease expired${v.lease?.owner ? ` (owner ${v.lease.owner})` : ''}. Restart takes the run over here and continues it from its last finished step; the step that was in flight runs again.`,
      'Restart run',
    );
    if (ok) await ctx.act('Restart', 'restart', {});
  };

  // The same buttons in the same order for every status, so none moves as the run changes.
  const actions = [
    button(
      'Cancel',
      cancel,
      'btn btn-danger-quiet',
      'Stop the run now',
      notLoaded ?? (finished ? 'The run has finished' : undefined),
    ),
    button(
      'Restart',
      restart,
      'btn',
      'Continue this run here: its process is gone',
      notLoaded ??
        (!active
          ? 'Only a running or sleeping run can be restarted'
          : !orphaned
            ? `Its process still holds it${v.lease?.owner ? ` (${v.lease.owner})` : ''}: a run is restarted only when its owner is gone`
            : undefined),
    ),
    button(
      'Time travel…',
      travel,
      'btn',
      'Run again from a chosen step',
      notLoaded ?? (active ? 'Wait for the run to stop, or cancel it' : undefined),
    ),
    button('Run again', again, 'btn', 'Start a new run with the same input', notLoaded),
    button(
      'Delete',
      remove,
      'btn btn-ghost',
      'Remove this run and its history',
      active || v.status === 'pending' ? 'Cancel the run before deleting it' : undefined,
    ),
  ];
  const wakeAt = Object.values(v.steps).find((s) => s.status === 'waiting' && s.wakeAt !== undefined)?.wakeAt;
  const age = finished
    ? `took ${duration(ended - started)}`
    : v.status === 'suspended'
      ? `suspended ${ago(v.updatedAt)}`
      : v.status === 'waiting'
        ? wakeAt !== undefined
          ? `sleeping, wakes in ${duration(Math.max(0, wakeAt - Date.now()))}`
          : 'sleeping'
        : v.status === 'running'
          ? `running for ${duration(ended - started)}`
          : (STATUS_LABEL[v.status] ?? v.status).toLowerCase();

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
          h('span', { class: 'run-age', text: age }),
          v.resourceId ? h('span', { text: `resource ${v.resourceId}` }) : null,
          v.attempts.length ? h('span', { class: 'tag tag-attempt', text: `attempt ${v.attempts.length + 1}` }) : null,
          v.usage
            ? h('span', {
                class: 'tag run-tokens',
                title: `${v.usage.inputTokens} in / ${v.usage.outputTokens} out, over every model answer of the run`,
                text: `${v.usage.totalTokens.toLocaleString('en-US')} tokens`,
              })
            : null,
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
          text: `Sleeping durably: the run wakes${wakeAt !== undefined ? ` at ${dateTime(wakeAt)}` : ' at its set time'}, even if the server restarts.`,
        })
      : null,
    orphaned
      ? h('div', {
          class: 'banner banner-orphaned',
          text: `The process running this run is gone (its lease expired ${ago(v.lease.expiresAt)}). Recovery continues it when a Weft instance checks for such runs, or restart it here.`,
        })
      : null,
  );
}
