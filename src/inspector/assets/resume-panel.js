// The "waiting for you" panel of a suspended run: what the step asked, and a resume form built from its resume schema.
import { api } from './api.js';
import { h, replace, toast } from './dom.js';
import { errorBox } from './dialogs.js';
import { jsonView } from './json-view.js';
import { schemaForm } from './schema-form.js';

/**
 * The resume panel of run `view` (suspended). With several suspended steps, a select picks
 * which one to resume. `onResumed()` is called after the server accepted the resume.
 */
export function resumePanel(view, info, { onResumed }) {
  const paths = (view.suspended ?? []).map((p) => p.join('.'));
  let current = paths[0];
  const formSlot = h('div');
  const payloadSlot = h('div');
  const errorSlot = h('div');
  let form;
  const pick = (path) => {
    current = path;
    const top = path.split('.')[0];
    const stored = view.steps[path] ?? view.steps[top];
    const payload = stored?.suspendPayload ?? view.suspendPayload?.[top];
    replace(
      payloadSlot,
      payload !== undefined
        ? h(
            'div',
            { class: 'suspend-payload' },
            h('div', { class: 'muted small', text: 'The step asked:' }),
            jsonView(payload),
          )
        : null,
    );
    form = schemaForm(info?.steps[path]?.resumeSchema, { name: 'resume' });
    replace(formSlot, form.el);
  };
  pick(current);
  const submit = h('button', {
    class: 'btn btn-primary',
    type: 'submit',
    text: 'Resume run',
    disabled: !view.workflowLoaded,
  });
  const onsubmit = async (e) => {
    e.preventDefault();
    const { value, errors } = form.read();
    if (errors.length) {
      replace(errorSlot, h('div', { class: 'form-error', role: 'alert', text: errors.join('; ') }));
      return;
    }
    submit.disabled = true;
    try {
      const body = { resumeData: value, ...(paths.length > 1 ? { step: current } : {}) };
      await api(`/runs/${encodeURIComponent(view.runId)}/resume`, { method: 'POST', body });
      replace(errorSlot);
      toast('Resumed', 'success');
      onResumed();
    } catch (error) {
      replace(errorSlot, errorBox(error));
      submit.disabled = false;
    }
  };
  return h(
    'section',
    { class: 'card resume-card', dataset: { testid: 'resume-panel' } },
    h(
      'div',
      { class: 'resume-head' },
      h(
        'div',
        {},
        h('h3', { class: 'card-title', text: 'Waiting for you' }),
        h('p', { class: 'muted', text: `Suspended at ${paths.join(', ')}. Fill in the resume data to continue.` }),
      ),
      paths.length > 1
        ? h(
            'select',
            { attrs: { 'aria-label': 'Suspended step' }, onchange: (e) => pick(e.target.value) },
            paths.map((p) => h('option', { value: p, text: p })),
          )
        : null,
    ),
    h(
      'form',
      { class: 'resume-form', onsubmit },
      h(
        'div',
        { class: 'resume-grid' },
        payloadSlot,
        h('div', {}, formSlot, errorSlot, h('div', { class: 'form-actions' }, submit)),
      ),
    ),
  );
}
