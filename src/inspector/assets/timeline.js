// The timeline of one run (or one earlier attempt): a row per step in graph order, with bars on a shared time axis.
import { h } from './dom.js';
import { STATUS_LABEL, compactDuration, duration, preview } from './format.js';

/**
 * The rows of a timeline. With the workflow's graph (`info`), every step shows in graph order,
 * run or not, with nested workflows, parallel and branch groups and foreach items; without it,
 * the stored steps by start time. `foreachItems`: the stored items by foreach path (the run
 * view's); `liveItems`: what progress events told since (by path, then index).
 */
export function buildRows(info, steps, foreachItems = {}, liveItems = {}) {
  const rows = [];
  const seen = new Set();
  const addStep = (step, kind, prefix, depth, extra = {}) => {
    const path = prefix + step.id;
    seen.add(path);
    rows.push({ path, label: step.id, kind, depth, result: steps[path], description: step.description, ...extra });
    if (kind === 'workflow' && step.serializedStepFlow) walk(step.serializedStepFlow, `${path}.`, depth + 1);
    if (kind === 'foreach') addItems(path, depth + 1);
  };
  const addItems = (path, depth) => {
    const result = steps[path];
    const inputs = Array.isArray(result?.payload) ? result.payload : [];
    const outputs = Array.isArray(result?.output) ? result.output : [];
    const stored = foreachItems[path] ?? [];
    const live = liveItems[path] ?? {};
    const count = Math.max(
      inputs.length,
      outputs.length,
      stored.length,
      ...Object.keys(live).map((i) => Number(i) + 1),
    );
    for (let i = 0; i < count; i++) {
      const item = stored[i];
      const told = live[i];
      // Stored records say when each item ran; a progress event newer than the record says how it ended.
      const status =
        (told && (!item || item.status === 'running') ? told.status : item?.status) ??
        (outputs[i] !== undefined ? 'success' : result?.status === 'running' ? 'pending' : 'not-run');
      rows.push({
        path: `${path}[${i}]`,
        label: `item ${i}`,
        kind: 'item',
        depth,
        index: i,
        parentPath: path,
        result: {
          ...item,
          status,
          payload: item?.payload ?? inputs[i],
          output: outputs[i] ?? item?.output ?? told?.output,
        },
      });
    }
  };
  const walk = (nodes, prefix, depth) => {
    for (const node of nodes) {
      switch (node.type) {
        case 'step':
        case 'mapping':
        case 'workflow':
          addStep(node.step, node.type, prefix, depth);
          break;
        case 'parallel':
        case 'conditional':
          rows.push({
            path: `${prefix}#${rows.length}`,
            label: node.type === 'parallel' ? 'parallel' : 'branch',
            kind: 'group',
            depth,
          });
          for (const child of node.steps) addStep(child.step, child.type, prefix, depth + 1, { group: node.type });
          break;
        case 'loop':
          addStep(node.step, 'loop', prefix, depth, { note: node.loopType });
          break;
        case 'foreach':
          addStep(node.step, 'foreach', prefix, depth, {
            note: 'foreach',
            noteTitle: `${node.opts?.concurrency ?? 1} at a time`,
          });
          break;
        case 'sleep':
        case 'sleepUntil':
          seen.add(prefix + node.id);
          rows.push({
            path: prefix + node.id,
            label: node.id,
            kind: 'sleep',
            depth,
            result: steps[prefix + node.id],
            note:
              node.type === 'sleep'
                ? node.duration !== undefined
                  ? `sleep ${duration(node.duration)}`
                  : 'sleep'
                : 'sleep until',
          });
          break;
      }
    }
  };
  if (info) walk(info.stepGraph, '', 0);
  const rest = Object.entries(steps)
    .filter(([path]) => !seen.has(path) && path !== 'input')
    .sort(([, a], [, b]) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
  for (const [path, result] of rest)
    rows.push({ path, label: path.split('.').pop(), kind: 'step', depth: path.split('.').length - 1, result });
  return rows;
}

/** The time range the bars are drawn on. */
export function timeRange(rows, { createdAt, now, live }) {
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const r of rows) {
    const s = r.result;
    if (!s || s.startedAt === undefined) continue;
    t0 = Math.min(t0, s.startedAt);
    t1 = Math.max(t1, s.endedAt ?? s.suspendedAt ?? s.startedAt, s.resumedAt ?? 0);
    if (live && (s.status === 'running' || s.status === 'waiting' || s.status === 'suspended')) t1 = Math.max(t1, now);
  }
  if (!Number.isFinite(t0)) t0 = new Date(createdAt).getTime();
  if (!Number.isFinite(t1) || t1 <= t0) t1 = t0 + 1;
  return { t0, t1 };
}

function bars(result, range, now) {
  if (!result || result.startedAt === undefined) return [];
  const span = range.t1 - range.t0;
  const pct = (t) => `${Math.max(0, Math.min(100, ((t - range.t0) / span) * 100))}%`;
  const seg = (from, to, cls, title) =>
    h('div', {
      class: `bar ${cls}`,
      title,
      style: { left: pct(from), width: `max(3px, calc(${pct(to)} - ${pct(from)}))` },
    });
  const s = result;
  const status = s.status;
  if (s.tries) {
    // One bar per attempt; the retry delays between them stay empty.
    return s.tries.map((t) =>
      seg(
        t.startedAt,
        t.endedAt ?? (status === 'running' ? now : t.startedAt),
        `bar-${t.status} bar-try`,
        `attempt ${t.attempt}: ${STATUS_LABEL[t.status] ?? t.status}${t.endedAt !== undefined ? `, ${duration(t.endedAt - t.startedAt)}` : ''}`,
      ),
    );
  }
  if (s.suspendedAt !== undefined && s.resumedAt !== undefined) {
    return [
      seg(s.startedAt, s.suspendedAt, 'bar-success'),
      seg(s.suspendedAt, s.resumedAt, 'bar-gap'),
      seg(s.resumedAt, s.endedAt ?? now, `bar-${status}`),
    ];
  }
  if (status === 'suspended')
    return [
      seg(s.startedAt, s.suspendedAt ?? s.startedAt, 'bar-suspended'),
      seg(s.suspendedAt ?? s.startedAt, Math.max(range.t1, now), 'bar-gap'),
    ];
  return [
    seg(s.startedAt, s.endedAt ?? (status === 'running' || status === 'waiting' ? now : s.startedAt), `bar-${status}`),
  ];
}

/** What the Took column shows: the step's time from its first start to its end, or so far while it runs. */
function stepDuration(s, now) {
  if (!s || s.startedAt === undefined) return '';
  const end = s.endedAt ?? s.suspendedAt ?? (s.status === 'running' ? now : undefined);
  return end !== undefined ? duration(end - s.startedAt) : '';
}

/** Renders rows as a timeline. `selected` is a step path; `onSelect(path)` is called on click. */
export function renderTimeline(rows, { range, now, selected, onSelect, label }) {
  const axis = h(
    'div',
    { class: 'tl-axis' },
    [0, 0.5, 1].map((f) =>
      h('span', { style: { left: `${f * 100}%` }, text: f === 0 ? '0' : compactDuration((range.t1 - range.t0) * f) }),
    ),
  );
  return h(
    'div',
    { class: 'timeline', attrs: { 'aria-label': label ?? 'timeline' } },
    h(
      'div',
      { class: 'tl-head' },
      h('div', { class: 'tl-name', text: 'Step' }),
      h('div', { class: 'tl-track' }, axis),
      h('div', { class: 'tl-dur', text: 'Took' }),
    ),
    rows.map((row) => {
      const status = row.kind === 'group' ? null : (row.result?.status ?? 'not-run');
      const clickable = row.kind !== 'group';
      return h(
        'div',
        {
          class: ['tl-row', `tl-${row.kind}`, selected === row.path && 'tl-selected', status && `st-${status}`],
          dataset: { step: row.path, status: status ?? '' },
          attrs: clickable ? { role: 'button', tabindex: 0 } : {},
          onclick: clickable ? () => onSelect?.(row.path) : undefined,
          onkeydown: clickable
            ? (e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onSelect?.(row.path);
                }
              }
            : undefined,
        },
        h(
          'div',
          { class: 'tl-name', style: { paddingLeft: `${10 + row.depth * 18}px` } },
          row.depth > 0 ? h('span', { class: 'tl-branch', text: row.kind === 'item' ? '·' : '└' }) : null,
          status
            ? h('span', { class: `dot dot-${status}`, title: STATUS_LABEL[status] ?? status })
            : h('span', { class: 'group-icon', text: row.label === 'parallel' ? '⇉' : '◇' }),
          h('span', { class: 'tl-label', text: row.label }),
          row.kind === 'workflow' ? h('span', { class: 'tag', text: 'nested' }) : null,
          row.note ? h('span', { class: 'tag', text: row.note, title: row.noteTitle ?? '' }) : null,
          row.result?.tries
            ? h('span', {
                class: 'tag tag-tries',
                text: `×${row.result.tries.length}`,
                title: `${row.result.tries.length} attempts`,
              })
            : null,
        ),
        h(
          'div',
          { class: 'tl-track' },
          row.kind === 'group'
            ? null
            : row.kept
              ? h('span', { class: 'tl-preview tl-kept', text: 'kept from the earlier attempt' })
              : row.kind === 'item' && row.result?.startedAt === undefined
                ? h('span', { class: 'tl-preview', text: preview(row.result?.output ?? row.result?.payload, 120) })
                : bars(row.result, range, now),
        ),
        h('div', { class: 'tl-dur', text: row.kind === 'group' ? '' : stepDuration(row.result, now) }),
      );
    }),
  );
}
