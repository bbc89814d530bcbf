// A workflow's graph: steps in sequence, parallel and branch blocks as forks, nested workflows as boxes; with a run's steps, the path it took is lit.
import { h } from './dom.js';
import { STATUS_LABEL } from './format.js';

const ICON = { loop: '↻', foreach: '⋔', sleep: '◷', sleepUntil: '◷' };

/**
 * Renders `stepGraph` (a workflow's serialized graph). With `steps` (a run view's steps by
 * dotted path), each node carries its status, the nodes the run reached are lit and the rest
 * (a branch not taken, steps not reached yet) stay dim; `onSelect(path)` makes nodes clickable.
 */
export function flowGraph(stepGraph, { steps = null, onSelect = null, selected = null } = {}) {
  const node = (path, label, kind, description) => {
    const result = steps?.[path];
    const status = result?.status;
    const tries = result?.tries?.length;
    return h(
      onSelect ? 'button' : 'span',
      {
        class: [
          'fg-node',
          `fg-kind-${kind}`,
          steps && (status ? `fg-taken fg-${status}` : 'fg-idle'),
          selected === path && 'fg-selected',
        ],
        type: onSelect ? 'button' : undefined,
        dataset: { step: path, status: status ?? '' },
        title: [description, status ? (STATUS_LABEL[status] ?? status) : steps ? 'not run' : '']
          .filter(Boolean)
          .join(' · '),
        onclick: onSelect ? () => onSelect(path) : undefined,
      },
      ICON[kind] ? h('span', { class: 'fg-icon', text: ICON[kind] }) : null,
      h('span', { class: 'fg-label', text: label }),
      tries ? h('span', { class: 'fg-tries', text: `×${tries}`, title: `${tries} attempts` }) : null,
    );
  };

  /** One graph entry: its element and whether the run reached it. */
  const entry = (n, prefix) => {
    switch (n.type) {
      case 'step':
      case 'mapping':
      case 'loop':
      case 'foreach': {
        const path = prefix + n.step.id;
        return { el: node(path, n.step.id, n.type, n.step.description), taken: Boolean(steps?.[path]) };
      }
      case 'workflow': {
        const path = prefix + n.step.id;
        const inner = sequence(n.step.serializedStepFlow ?? [], `${path}.`);
        return {
          el: h(
            'div',
            {
              class: ['fg-box', steps && (steps[path] ? `fg-taken fg-${steps[path].status}` : 'fg-idle')],
              dataset: { step: path },
            },
            h('div', { class: 'fg-box-label' }, node(path, n.step.id, 'workflow', n.step.description)),
            inner.el,
          ),
          taken: Boolean(steps?.[path]),
        };
      }
      case 'parallel':
      case 'conditional': {
        const branches = n.steps.map((child) => entry(child, prefix));
        const taken = branches.some((b) => b.taken);
        return {
          el: h(
            'div',
            { class: ['fg-fork', `fg-fork-${n.type}`, steps && (taken ? 'fg-taken' : 'fg-idle')] },
            h('div', { class: 'fg-fork-label', text: n.type === 'parallel' ? 'parallel' : 'branch' }),
            h(
              'div',
              { class: 'fg-branches' },
              branches.map((b) =>
                h('div', { class: ['fg-branch', steps && (b.taken ? 'fg-branch-taken' : '')] }, b.el),
              ),
            ),
          ),
          taken,
        };
      }
      default: {
        const path = prefix + n.id;
        return {
          el: node(path, n.id, n.type, n.type === 'sleep' ? 'sleep' : 'sleep until'),
          taken: Boolean(steps?.[path]),
        };
      }
    }
  };

  /** Entries joined by arrows; an arrow between two entries the run reached is lit. */
  const sequence = (nodes, prefix) => {
    const entries = nodes.map((n) => entry(n, prefix));
    const parts = [];
    entries.forEach((e, i) => {
      if (i > 0)
        parts.push(
          h('span', {
            class: ['fg-arrow', steps && e.taken && entries[i - 1].taken && 'fg-arrow-taken'],
            text: '→',
            attrs: { 'aria-hidden': 'true' },
          }),
        );
      parts.push(e.el);
    });
    return { el: h('div', { class: 'fg-seq' }, parts), taken: entries.some((e) => e.taken) };
  };

  return h(
    'div',
    { class: 'flow-graph', attrs: { role: 'group', 'aria-label': 'Workflow graph' } },
    sequence(stepGraph ?? [], '').el,
  );
}
