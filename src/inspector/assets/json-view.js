// Syntax-highlighted JSON, built as DOM nodes (values are text, never markup).
import { h } from './dom.js';

const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/** A <pre> with the value pretty-printed and coloured. `undefined` shows as a dim dash. */
export function jsonView(value, { className = '' } = {}) {
  if (value === undefined) return h('div', { class: 'json-empty', text: '—' });
  const text = JSON.stringify(value, null, 2) ?? String(value);
  const pre = h('pre', { class: `json ${className}` });
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    if (m.index > last) pre.append(text.slice(last, m.index));
    if (m[1] !== undefined) {
      pre.append(h('span', { class: m[2] ? 'j-key' : 'j-str', text: m[1] }));
      if (m[2]) pre.append(m[2]);
    } else if (m[3] !== undefined) pre.append(h('span', { class: m[3] === 'null' ? 'j-null' : 'j-bool', text: m[3] }));
    else pre.append(h('span', { class: 'j-num', text: m[4] }));
    last = m.index + m[0].length;
  }
  if (last < text.length) pre.append(text.slice(last));
  return pre;
}
