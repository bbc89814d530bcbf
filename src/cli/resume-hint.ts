// The command printed after a run suspends: `npx weft runs resume ...` with the options this command was
// given and resume data made from the suspended step's resume schema, so that it works as printed.
import type { JsonSchema } from '../server/json-schema.js';
import { describeWorkflow } from '../server/describe-workflow.js';
import type { Workflow } from '../workflow/create-workflow.js';
import type { WorkflowResult } from '../workflow/types.js';

/** What the resume command must repeat of the command line that started or resumed the run. */
export interface ResumeContext {
  /** `--db` as given (WEFT_DB, if that was used, is still set in the same shell). */
  db?: string | undefined;
  /** `--workflows` as given. */
  workflows?: string | undefined;
}

/** A word quoted for a POSIX shell when it needs to be. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

const FORMATS: Record<string, string> = {
  email: 'name@example.com',
  uri: 'https://example.com',
  url: 'https://example.com',
  uuid: '00000000-0000-4000-8000-000000000000',
  'date-time': '2025-01-31T12:00:00.000Z',
  date: '2025-01-31',
};

function firstType(type: unknown): string | undefined {
  if (Array.isArray(type)) return type.find((t) => t !== 'null') ?? type[0];
  return typeof type === 'string' ? type : undefined;
}

/**
 * A value the JSON Schema accepts, to show the shape of the data it wants: its `const`, `default`,
 * first example or enum value when it has one; a required property each for an object; `"<name>"`
 * for a string. Patterns and custom refinements are not looked at.
 */
function exampleValue(schema: JsonSchema | null | undefined, name = 'text'): unknown {
  if (!schema) return {};
  if ('const' in schema) return schema.const;
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) return exampleValue(options[0] as JsonSchema, name);
  }
  switch (firstType(schema.type)) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
      return Object.fromEntries(required.map((key) => [key, exampleValue(properties[key], key)]));
    }
    case 'array': {
      const count = typeof schema.minItems === 'number' ? schema.minItems : 0;
      return Array.from({ length: count }, () => exampleValue(schema.items as JsonSchema | undefined, name));
    }
    case 'string':
      return typeof schema.format === 'string' && FORMATS[schema.format] ? FORMATS[schema.format] : `<${name}>`;
    case 'number':
    case 'integer': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
      const above = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : undefined;
      return Math.ceil(min ?? above ?? 0);
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return {};
  }
}

/**
 * `npx weft runs resume <runId> ... --data '<json>'` for a suspended result: the `--db` and
 * `--workflows` given to this command, `--step` when several steps are suspended, and data of the
 * shape the first suspended step's resume schema accepts.
 */
export function resumeCommand(result: WorkflowResult, workflow: Workflow, context: ResumeContext): string {
  const paths = (result.suspended ?? []).map((path) => path.join('.'));
  const step = paths[0];
  const schema = step === undefined ? null : (describeWorkflow(workflow).steps[step]?.resumeSchema ?? null);
  const words = ['npx', 'weft', 'runs', 'resume', result.runId];
  if (context.db !== undefined) words.push('--db', context.db);
  if (context.workflows !== undefined) words.push('--workflows', context.workflows);
  if (paths.length > 1 && step !== undefined) words.push('--step', step);
  words.push('--data', JSON.stringify(exampleValue(schema)));
  return words.map(shellQuote).join(' ');
}
