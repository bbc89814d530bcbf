// Modal dialogs: start a run, time-travel from a step, confirm, and ask for the API token.
import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { jsonView } from './json-view.js';
import { schemaForm } from './schema-form.js';

/** Opens a <dialog>; `build(close)` returns its body. Resolves with what `close(value)` is given. */
export function openDialog(title, build, { wide = false } = {}) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: ['dialog', wide && 'dialog-wide'] });
    const close = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(undefined);
    });
    dialog.append(
      h(
        'div',
        { class: 'dialog-head' },
        h('h2', { text: title }),
        h('button', {
          type: 'button',
          class: 'icon-button',
          title: 'Close',
          text: '×',
          onclick: () => close(undefined),
        }),
      ),
      build(close),
    );
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** An error box for a failed API call, listing schema issues when there are any. */
export function errorBox(error) {
  const issues = error instanceof ApiError && Array.isArray(error.issues) ? error.issues : [];
  return h(
    'div',
    { class: 'form-error', role: 'alert' },
    h('strong', { text: error instanceof ApiError ? error.code.replaceAll('_', ' ').toLowerCase() : 'error' }),
    ' ',
    error.message,
    issues.length
      ? h(
          'ul',
          {},
          issues.map((i) => h('li', { text: `${i.path || '(value)'}: ${i.message}` })),
        )
      : null,
  );
}

/** Asks for the bearer token (when the server answers 401). */
export function tokenDialog() {
  return openDialog('This server needs a token', (close) => {
    const input = h('input', {
      type: 'password',
      class: 'wide',
      attrs: { autocomplete: 'off', 'aria-label': 'API token' },
    });
    return h(
      'form',
      {
        class: 'dialog-body',
        onsubmit: (e) => {
          e.preventDefault();
          close(input.value.trim() || null);
        },
      },
      h('p', { class: 'muted', text: 'It was started with --token or WEFT_TOKEN. The token stays in this tab only.' }),
      input,
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { class: 'btn btn-primary', type: 'submit', text: 'Use token' }),
      ),
    );
  });
}

/** Asks a yes/no question. */
export function confirmDialog(title, message, action = 'Confirm', danger = false) {
  return openDialog(title, (close) =>
    h(
      'div',
      { class: 'dialog-body' },
      h('p', { text: message }),
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', text: 'Keep', onclick: () => close(false) }),
        h('button', {
          type: 'button',
          class: ['btn', danger ? 'btn-danger' : 'btn-primary'],
          text: action,
          onclick: () => close(true),
        }),
      ),
    ),
  );
}

/** Start a run: pick a workflow, fill its input form. Resolves with the new run id. */
export function newRunDialog(workflows, { workflowId, inputData } = {}) {
  return openDialog(
    'Start a run',
    (close) => {
      const select = h(
        'select',
        { attrs: { 'aria-label': 'Workflow', name: 'workflow' } },
        workflows.map((w) => h('option', { value: w.id, text: w.id, selected: w.id === workflowId })),
      );
      const desc = h('p', { class: 'muted' });
      const formBox = h('div');
      const errorSlot = h('div');
      const runIdInput = h('input', { type: 'text', attrs: { placeholder: 'random UUID', name: 'runId' } });
      const resourceInput = h('input', { type: 'text', attrs: { placeholder: 'none', name: 'resourceId' } });
      let form;
      const pick = (initial) => {
        const wf = workflows.find((w) => w.id === select.value) ?? workflows[0];
        desc.textContent = wf?.description ?? '';
        form = schemaForm(wf?.inputSchema, { initial, name: 'input' });
        formBox.replaceChildren(form.el);
      };
      select.addEventListener('change', () => pick(undefined));
      pick(inputData);
      const submit = h('button', { class: 'btn btn-primary', type: 'submit', text: 'Start run' });
      return h(
        'form',
        {
          class: 'dialog-body',
          onsubmit: async (e) => {
            e.preventDefault();
            const { value, errors } = form.read();
            if (errors.length) {
              errorSlot.replaceChildren(h('div', { class: 'form-error', role: 'alert' }, errors.join('; ')));
              return;
            }
            submit.disabled = true;
            try {
              const body = { inputData: value };
              if (runIdInput.value.trim()) body.runId = runIdInput.value.trim();
              if (resourceInput.value.trim()) body.resourceId = resourceInput.value.trim();
              const out = await api(`/workflows/${encodeURIComponent(select.value)}/runs`, { method: 'POST', body });
              close(out.runId);
            } catch (error) {
              errorSlot.replaceChildren(errorBox(error));
              submit.disabled = false;
            }
          },
        },
        h('label', { class: 'field-label', text: 'Workflow' }),
        select,
        desc,
        h('h3', { class: 'section-title', text: 'Input' }),
        formBox,
        h(
          'details',
          { class: 'advanced' },
          h('summary', { text: 'Run id and resource' }),
          h('div', { class: 'field' }, h('label', { class: 'field-label', text: 'Run id' }), runIdInput),
          h('div', { class: 'field' }, h('label', { class: 'field-label', text: 'Resource id' }), resourceInput),
        ),
        errorSlot,
        h(
          'div',
          { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn', text: 'Cancel', onclick: () => close(undefined) }),
          submit,
        ),
      );
    },
    { wide: true },
  );
}

/**
 * Time travel: run the workflow again from a chosen step, with its input editable (prefilled
 * with what it got last time). The results it replaces stay as an earlier attempt.
 */
export function timeTravelDialog(view, info, stepPath) {
  const candidates = info
    ? Object.values(info.steps)
        .filter((s) => s.kind !== 'sleep' && s.kind !== 'sleepUntil')
        .map((s) => s.path)
    : Object.keys(view.steps);
  return openDialog(
    'Time travel',
    (close) => {
      const select = h(
        'select',
        { attrs: { 'aria-label': 'Step', name: 'step' } },
        candidates.map((p) => h('option', { value: p, text: p, selected: p === stepPath })),
      );
      const editor = h('textarea', {
        class: 'json-editor mono',
        rows: 10,
        spellcheck: false,
        attrs: { 'aria-label': 'Step input as JSON', name: 'inputData' },
      });
      const before = h('div', { class: 'muted small' });
      const errorSlot = h('div');
      const fill = () => {
        const stored = view.steps[select.value];
        editor.value = stored?.payload === undefined ? '' : JSON.stringify(stored.payload, null, 2);
        before.textContent = stored
          ? `Prefilled with the input "${select.value}" got in this run. Leave empty to let the engine work it out from the earlier steps.`
          : 'This step has not run yet; give its input, or leave empty.';
      };
      select.addEventListener('change', fill);
      fill();
      const submit = h('button', { class: 'btn btn-primary', type: 'submit', text: 'Travel and run' });
      return h(
        'form',
        {
          class: 'dialog-body',
          onsubmit: async (e) => {
            e.preventDefault();
            const body = { step: select.value };
            if (editor.value.trim() !== '') {
              try {
                body.inputData = JSON.parse(editor.value);
              } catch (err) {
                errorSlot.replaceChildren(
                  h('div', { class: 'form-error', role: 'alert', text: `The input is not valid JSON: ${err.message}` }),
                );
                return;
              }
            }
            submit.disabled = true;
            try {
              await api(`/runs/${encodeURIComponent(view.runId)}/time-travel`, { method: 'POST', body });
              close(true);
            } catch (error) {
              errorSlot.replaceChildren(errorBox(error));
              submit.disabled = false;
            }
          },
        },
        h('p', {
          class: 'muted',
          text: 'Runs the workflow again from this step, with the results of the steps before it. What it replaces stays visible as an earlier attempt.',
        }),
        h('label', { class: 'field-label', text: 'From step' }),
        select,
        h('label', { class: 'field-label', text: 'Step input' }),
        editor,
        before,
        errorSlot,
        h(
          'div',
          { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn', text: 'Cancel', onclick: () => close(false) }),
          submit,
        ),
      );
    },
    { wide: true },
  );
}

/** A read-only JSON dialog (for events). */
export function jsonDialog(title, value) {
  return openDialog(title, () => h('div', { class: 'dialog-body' }, jsonView(value)), { wide: true });
}
