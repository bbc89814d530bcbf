// Forms generated from a JSON Schema (resume data, workflow input), with a switch to raw JSON for anything else.
import { h } from './dom.js';

function typeOf(schema) {
  if (!schema || typeof schema !== 'object') return 'json';
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => t !== 'null');
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v === 'string')) return 'enum';
  if (type === 'string' || type === 'number' || type === 'integer' || type === 'boolean') return type;
  if (type === 'object' && schema.properties && Object.keys(schema.properties).length > 0) return 'object';
  if (
    type === 'array' &&
    schema.items &&
    ['string', 'number', 'integer'].includes(schema.items.type) &&
    !schema.items.enum
  )
    return 'list';
  return 'json';
}

function labelOf(key) {
  return key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[-_]/g, ' ')
    .replace(/^./, (c) => c.toUpperCase());
}

/** True when every value of the schema can be edited by a generated field. */
export function formFits(schema) {
  return typeOf(schema) === 'object';
}

function field(key, schema, required, initial, path) {
  const type = typeOf(schema);
  const id = `f-${path.join('-')}-${Math.random().toString(36).slice(2, 7)}`;
  const start = initial !== undefined ? initial : schema?.default;
  const hint = schema?.description ? h('div', { class: 'field-hint', text: schema.description }) : null;
  const label = h(
    'label',
    { class: 'field-label', attrs: { for: id } },
    labelOf(key),
    required ? h('span', { class: 'req', text: ' *' }) : h('span', { class: 'opt', text: ' optional' }),
  );
  let input;
  let read;
  switch (type) {
    case 'boolean': {
      input = h('input', { type: 'checkbox', id, class: 'switch', checked: start === true, attrs: { name: key } });
      read = () => ({ set: true, value: input.checked });
      return {
        el: h(
          'div',
          { class: 'field field-check' },
          h('label', { class: 'check', attrs: { for: id } }, input, h('span', { text: labelOf(key) })),
          hint,
        ),
        read,
      };
    }
    case 'enum': {
      input = h(
        'select',
        { id, attrs: { name: key } },
        required ? null : h('option', { value: '', text: '—' }),
        schema.enum.map((v) => h('option', { value: v, text: v, selected: v === start })),
      );
      read = () => (input.value === '' ? { set: false } : { set: true, value: input.value });
      break;
    }
    case 'number':
    case 'integer': {
      input = h('input', {
        id,
        type: 'number',
        step: type === 'integer' ? '1' : 'any',
        value: start ?? '',
        attrs: { name: key, min: schema.minimum, max: schema.maximum },
      });
      read = () => {
        if (input.value.trim() === '') return { set: false };
        const n = Number(input.value);
        return Number.isFinite(n) ? { set: true, value: n } : { error: `${labelOf(key)} must be a number` };
      };
      break;
    }
    case 'string': {
      const long = (schema.maxLength ?? 0) > 200 || /comment|note|body|text|message|description/i.test(key);
      input = long
        ? h('textarea', { id, rows: 3, value: start ?? '', attrs: { name: key } })
        : h('input', {
            id,
            type: schema.format === 'email' ? 'email' : 'text',
            value: start ?? '',
            attrs: { name: key, placeholder: schema.format ?? '' },
          });
      read = () => (input.value === '' ? { set: false } : { set: true, value: input.value });
      break;
    }
    case 'list': {
      input = h('textarea', {
        id,
        rows: 3,
        value: Array.isArray(start) ? start.join('\n') : '',
        attrs: { name: key, placeholder: 'one per line' },
      });
      read = () => {
        const lines = input.value
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean);
        if (lines.length === 0) return { set: false };
        const numeric = schema.items.type !== 'string';
        const values = numeric ? lines.map(Number) : lines;
        return numeric && values.some((n) => !Number.isFinite(n))
          ? { error: `${labelOf(key)}: every line must be a number` }
          : { set: true, value: values };
      };
      break;
    }
    case 'object': {
      const sub = objectFields(schema, start ?? {}, path);
      return {
        el: h('fieldset', { class: 'field-group' }, h('legend', { text: labelOf(key) }), hint, sub.el),
        read: () => ({ set: true, ...sub.read() }),
      };
    }
    default: {
      input = h('textarea', {
        id,
        rows: 3,
        class: 'mono',
        value: start === undefined ? '' : JSON.stringify(start, null, 2),
        attrs: { name: key, placeholder: 'JSON' },
      });
      read = () => {
        if (input.value.trim() === '') return { set: false };
        try {
          return { set: true, value: JSON.parse(input.value) };
        } catch {
          return { error: `${labelOf(key)} must be JSON` };
        }
      };
    }
  }
  return { el: h('div', { class: 'field' }, label, input, hint), read };
}

function objectFields(schema, initial, path) {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties).map(([key, sub]) => ({
    key,
    required: required.has(key),
    ...field(key, sub, required.has(key), initial?.[key], [...path, key]),
  }));
  return {
    el: h(
      'div',
      { class: 'fields' },
      fields.map((f) => f.el),
    ),
    read: () => {
      const value = {};
      const errors = [];
      for (const f of fields) {
        const r = f.read();
        if (r.error) errors.push(r.error);
        else if (r.errors) errors.push(...r.errors);
        else if (r.set) value[f.key] = r.value;
        else if (f.required) errors.push(`${labelOf(f.key)} is required`);
      }
      return { value, errors };
    },
  };
}

/**
 * A form for values of `schema`, prefilled with `initial`. When the schema does not fit a form
 * (or has none), a JSON editor. `read()` gives `{ value, errors }`; a toggle switches to JSON.
 */
export function schemaForm(schema, { initial, name = 'value' } = {}) {
  const root = h('div', { class: 'schema-form', dataset: { form: name } });
  let mode = formFits(schema) ? 'form' : 'json';
  let form;
  const json = h('textarea', {
    class: 'json-editor mono',
    rows: 8,
    spellcheck: false,
    attrs: { 'aria-label': `${name} as JSON` },
  });
  const toggle = h('button', {
    type: 'button',
    class: 'link-button',
    onclick: () => switchTo(mode === 'form' ? 'json' : 'form'),
  });
  const body = h('div');
  const render = (value) => {
    body.replaceChildren();
    if (mode === 'form') {
      form = objectFields(schema, value ?? {}, [name]);
      body.append(form.el);
    } else {
      json.value = value === undefined ? '' : JSON.stringify(value, null, 2);
      body.append(json);
    }
    toggle.textContent = mode === 'form' ? 'Edit as JSON' : 'Edit as form';
    toggle.hidden = !formFits(schema);
  };
  const read = () => {
    if (mode === 'form') return form.read();
    if (json.value.trim() === '') return { value: undefined, errors: [] };
    try {
      return { value: JSON.parse(json.value), errors: [] };
    } catch (e) {
      return { value: undefined, errors: [`Not valid JSON: ${e.message}`] };
    }
  };
  const switchTo = (next) => {
    const current = read();
    if (current.errors.length && mode === 'json') return;
    mode = next;
    render(current.value);
  };
  render(initial);
  root.append(h('div', { class: 'form-tools' }, toggle), body);
  return { el: root, read };
}
