// `.map()`: builds the next step's input from earlier results, the workflow input, constants or the request context.
import { WeftError } from '../errors.js';
import type { AnySchema, ExecuteContext, Step } from './types.js';

/** A schema that accepts anything as it is: the input and output schema of mapping steps. */
const anySchema: AnySchema = {
  '~standard': { version: 1, vendor: 'weft', validate: (value: unknown) => ({ value }) },
};

type StepRef = { id: string };

/** One key of a `.map({...})` config. */
export type MapSource =
  | { step: StepRef | readonly StepRef[]; path: string }
  | { initData: StepRef | null; path: string }
  | { value: unknown; schema?: AnySchema }
  | { requestContextPath: string; schema?: AnySchema }
  | { fn: (ctx: ExecuteContext) => unknown; schema?: AnySchema }
  | { template: string };

/** `.map()`'s argument: an object of sources per output key, or a function of the step context. */
export type MapConfig = Record<string, MapSource> | ((ctx: ExecuteContext) => unknown);

const MISSING = Symbol('missing');

function readPath(value: unknown, path: string): unknown {
  if (path === '.' || path === '') return value;
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || !(part in current)) return MISSING;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * `path` read from a step's output or the workflow input, as the reference reads it: a key missing
 * from an object gives undefined (no key in the output), but a path through something that is not an
 * object (a step that did not succeed gives null) fails the mapping step with `Invalid path ...`.
 */
function followPath(value: unknown, path: string, label: string): unknown {
  if (path === '.' || path === '') return value;
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') {
      throw new WeftError('MAP_PATH_INVALID', `Invalid path ${path} in ${label}`);
    }
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function renderTemplate(template: string, ctx: ExecuteContext): string {
  return template.replace(/\$\{([^}]+)\}/g, (_match, expr: string) => {
    const [root, ...rest] = expr.trim().split('.');
    let base: unknown;
    if (root === 'initData') base = ctx.getInitData();
    else if (root === 'inputData') base = ctx.inputData;
    else if (root === 'stepResults' && rest.length > 0) base = ctx.getStepResult(rest.shift()!);
    else return '';
    const v = readPath(base, rest.join('.') || '.');
    return v === MISSING || v === undefined ? '' : String(v);
  });
}

async function resolveSource(key: string, source: MapSource, ctx: ExecuteContext): Promise<unknown> {
  if ('step' in source) {
    const refs = Array.isArray(source.step) ? source.step : [source.step as StepRef];
    // The first of the steps that succeeded; a step that did not gives null.
    const found = refs.find((ref) => ctx.getStepResult(ref.id) !== undefined);
    const label = `step ${refs.map((ref) => ref?.id ?? 'unknown').join('|')}`;
    return followPath(found ? ctx.getStepResult(found.id) : null, source.path, label);
  }
  if ('initData' in source) {
    if (source.initData === null || typeof source.initData !== 'object') {
      throw new WeftError(
        'MAP_PATH_INVALID',
        `Invalid map source for key "${key}": initData must be the workflow, got ${String(source.initData)}`,
      );
    }
    return followPath(ctx.getInitData(), source.path, 'initData');
  }
  if ('value' in source) return source.value;
  if ('requestContextPath' in source) {
    const [head, ...rest] = source.requestContextPath.split('.');
    if (!ctx.requestContext.has(head!)) return MISSING;
    return readPath(ctx.requestContext.get(head!), rest.join('.') || '.');
  }
  if ('fn' in source) return source.fn(ctx);
  if ('template' in source) return renderTemplate(source.template, ctx);
  throw new WeftError(
    'INVALID_DEFINITION',
    `Invalid map source for key "${key}": expected step, initData, value, requestContextPath, fn or template`,
  );
}

/** Makes the step that a `.map()` call adds. */
export function createMapStep(id: string, config: MapConfig): Step {
  if (typeof config !== 'function' && (typeof config !== 'object' || config === null)) {
    throw new WeftError(
      'INVALID_DEFINITION',
      `.map() expects an object of sources or a function, got ${typeof config}`,
    );
  }
  const execute =
    typeof config === 'function'
      ? async (ctx: ExecuteContext) => config(ctx)
      : async (ctx: ExecuteContext) => {
          const out: Record<string, unknown> = {};
          for (const [key, source] of Object.entries(config)) {
            const value = await resolveSource(key, source, ctx);
            if (value !== MISSING && value !== undefined) out[key] = value;
          }
          return out;
        };
  return Object.freeze({ id, inputSchema: anySchema, outputSchema: anySchema, execute });
}
