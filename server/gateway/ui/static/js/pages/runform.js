// The Run form: one field per parameter of the deployment's schema, values
// checked against the schema before the run is created.
import { api } from '../api.js';
import { h, replace } from '../dom.js';

const TYPES = {
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isInteger(v),
  number: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
  array: Array.isArray,
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
};

const EXAMPLES = { string: '"text"', integer: '3', number: '2.5', boolean: 'true', array: '[1, 2]', object: '{"k": 1}' };

/** parseValue reads a field as the CLI reads --param k=v: as JSON when it
 * is JSON (unless the schema says string), else as text. */
export function parseValue(text, type) {
  if (type === 'string') return text;
  try { return JSON.parse(text); } catch { return text; }
}

/** validate returns {name: message} for every field the schema refuses. */
export function validate(schema, values, defaults) {
  const errors = {};
  const props = schema?.properties || {};
  for (const [name, v] of Object.entries(values)) {
    const type = props[name]?.type;
    if (type && TYPES[type] && !TYPES[type](v)) {
      errors[name] = `Must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} in JSON, e.g. ${EXAMPLES[type]}.`;
    }
  }
  for (const name of schema?.required || []) {
    if (!(name in values) && !(name in (defaults || {}))) errors[name] = 'Required: the flow has no default for it.';
  }
  return errors;
}

/** runForm builds the form; onCreated gets the new run. */
export function runForm(dep, { onCreated, signal }) {
  const schema = dep.parameter_schema || {};
  const props = schema.properties || {};
  const defaults = dep.parameters || {};
  const names = Object.keys(props);
  const required = new Set(schema.required || []);
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const inputs = {};
  const errs = {};
  const fields = names.map((name) => {
    const p = props[name] || {};
    const id = `param-${name}`;
    const def = name in defaults ? defaults[name] : p.default;
    const hintText = [p.type ? `${p.type}` : 'any JSON value or text',
      def !== undefined ? `default ${JSON.stringify(def)}` : (required.has(name) ? 'required' : 'optional')].join(' · ');
    inputs[name] = h('input', { id, name, type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: def !== undefined ? (typeof def === 'string' ? def : JSON.stringify(def)) : '', 'aria-describedby': `${id}-hint ${id}-err`, 'aria-required': required.has(name) && !(name in defaults) ? 'true' : null });
    errs[name] = h('p', { class: 'error', id: `${id}-err` });
    return h('div', { class: 'field' }, h('label', { for: id }, name), inputs[name], h('p', { class: 'hint', id: `${id}-hint` }, hintText), errs[name]);
  });
  const submit = h('button', { type: 'submit' }, 'Create run');
  const form = h('form', { class: 'run-form', novalidate: true, 'aria-label': 'Run with parameters' },
    fields.length ? fields : h('p', { class: 'muted' }, 'This flow takes no parameters.'),
    schema.additionalProperties ? h('p', { class: 'hint' }, 'The flow also accepts other keyword arguments (pass them with the CLI).') : null,
    formError,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values = {};
    for (const name of names) {
      const text = inputs[name].value;
      if (text.trim() !== '') values[name] = parseValue(text, props[name]?.type);
    }
    const errors = validate(schema, values, defaults);
    let first = null;
    for (const name of names) {
      const msg = errors[name] || '';
      errs[name].textContent = msg;
      inputs[name].setAttribute('aria-invalid', msg ? 'true' : 'false');
      if (msg && !first) first = inputs[name];
    }
    formError.hidden = true;
    if (first) { first.focus(); return; }
    submit.disabled = true;
    try {
      const resp = await api(`/deployments/${dep.id}/runs`, { method: 'POST', body: { parameters: values }, signal });
      onCreated(resp.flow_run);
    } catch (err) {
      if (err.name === 'AbortError') return;
      replace(formError, err.isAuth ? `Not allowed: ${err.message}` : err.message);
      formError.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
