// The start page: the loaded workflows with their steps, and a button to start each.
import { h, replace } from './dom.js';
import { newRunDialog } from './dialogs.js';

function withArrows(chips) {
  return chips.flatMap((chip, i) => (i === 0 ? [chip] : [h('span', { class: 'flow-arrow', text: '→' }), chip]));
}

function stepChips(nodes, depth = 0, sequence = true) {
  const chips = nodes.map((node) => {
    switch (node.type) {
      case 'step':
      case 'mapping':
        return h('span', { class: 'flow-step', text: node.step.id, title: node.step.description ?? '' });
      case 'workflow':
        return h(
          'span',
          { class: 'flow-nested', title: 'nested workflow' },
          h('span', { class: 'flow-nested-label', text: node.step.id }),
          depth < 2 ? stepChips(node.step.serializedStepFlow ?? [], depth + 1) : null,
        );
      case 'parallel':
      case 'conditional':
        return h(
          'span',
          { class: 'flow-group', title: node.type },
          h('span', { class: 'flow-group-label', text: node.type === 'parallel' ? 'parallel' : 'branch' }),
          stepChips(node.steps, depth + 1, false),
        );
      case 'loop':
        return h('span', { class: 'flow-step flow-loop', text: `↻ ${node.step.id}` });
      case 'foreach':
        return h('span', { class: 'flow-step flow-foreach', text: `⋔ ${node.step.id}` });
      default:
        return h('span', { class: 'flow-step flow-sleep', text: `◷ ${node.id}` });
    }
  });
  return sequence ? withArrows(chips) : chips;
}

/** Renders the workflows overview in `main`. */
export function renderHome(main, app) {
  if (app.workflows.length === 0) {
    replace(
      main,
      h(
        'div',
        { class: 'empty' },
        h('h2', { text: 'No workflows loaded' }),
        h('p', {
          class: 'muted',
          text: 'This server shows the runs in its store. To start and operate runs, serve a workflows file: weft serve --workflows workflows.ts',
        }),
      ),
    );
    return;
  }
  replace(
    main,
    h(
      'div',
      { class: 'home' },
      h(
        'div',
        { class: 'home-head' },
        h('h1', { text: 'Workflows' }),
        h('p', { class: 'muted', text: 'Pick a run on the left to inspect it, or start a new one.' }),
      ),
      h(
        'div',
        { class: 'wf-grid' },
        app.workflows.map((wf) =>
          h(
            'section',
            { class: 'card wf-card', dataset: { workflow: wf.id } },
            h(
              'div',
              { class: 'wf-card-head' },
              h('h3', { text: wf.id }),
              h('button', {
                class: 'btn btn-primary btn-small',
                type: 'button',
                text: 'Start',
                onclick: async () => {
                  const id = await newRunDialog(app.workflows, { workflowId: wf.id });
                  if (id) app.navigate(`#/runs/${encodeURIComponent(id)}`);
                },
              }),
            ),
            wf.description ? h('p', { class: 'muted', text: wf.description }) : null,
            h('div', { class: 'flow' }, stepChips(wf.stepGraph)),
            h('div', {
              class: 'wf-card-foot muted small',
              text: `${Object.keys(wf.steps).length} steps${Object.values(wf.steps).some((s) => s.resumeSchema) ? ' · waits for people' : ''}`,
            }),
          ),
        ),
      ),
    ),
  );
}
