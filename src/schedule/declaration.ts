// The `schedule` option of createWorkflow: its types, its defaults, and its validation when the workflow is built.
import { WeftError } from '../errors.js';
import { formatIssues, validate, type Schema } from '../schema/validate.js';
import { cronProblem } from './cron.js';

/** What happens to fires missed while no scheduler ran (see `WorkflowScheduleConfig.catchup`). */
export type ScheduleCatchup = 'none' | 'latest' | 'all';
/** What a fire does while the schedule's previous run is still active (see `WorkflowScheduleConfig.overlap`). */
export type ScheduleOverlap = 'allow' | 'skip' | 'queue';

/** Default of `catchup`: after a downtime, the most recent missed fire runs once, the older ones are dropped. */
export const DEFAULT_CATCHUP: ScheduleCatchup = 'latest';
/** Default of `catchupWindowMs`: one year, as Temporal's schedules. */
export const DEFAULT_CATCHUP_WINDOW_MS = 365 * 24 * 3_600_000;
/** Default of `overlap`: a fire that comes while the previous run is active is skipped, as Temporal's default. */
export const DEFAULT_OVERLAP: ScheduleOverlap = 'skip';

/**
 * One schedule of a workflow, as Mastra declares it, plus the policies Mastra lacks.
 *
 * @example
 * createWorkflow({ id: 'report', inputSchema, outputSchema, schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris', inputData: { team: 'ops' } } })
 */
export interface WorkflowScheduleConfig<TInput = unknown, TState = unknown, TRequestContext = unknown> {
  /** Stable id within the workflow; required in an array of schedules. Renaming it makes a new schedule. */
  id?: string;
  /** Cron expression: 5 parts, 6 (seconds first) or 7 (seconds first, year last). */
  cron: string;
  /** IANA timezone of the cron (e.g. 'America/New_York'); default: the host's. */
  timezone?: string;
  /** Input of every scheduled run, checked against the workflow's inputSchema when declared. */
  inputData?: TInput;
  /** Initial state of every scheduled run, checked against the workflow's stateSchema. */
  initialState?: TState;
  /** Request context of every scheduled run, checked against the workflow's requestContextSchema. */
  requestContext?: unknown extends TRequestContext ? Record<string, unknown> : TRequestContext;
  /** Stored with the schedule and shown by the CLI and inspector. */
  metadata?: Record<string, unknown>;
  /**
   * Fires missed while no scheduler ran (every process down, or the schedule's workflow not
   * deployed), within `catchupWindowMs`: `'none'` drops them, `'latest'` (default) runs the most
   * recent once, `'all'` runs each of them once, oldest first. A fire is missed once it is more than
   * a tick late.
   */
  catchup?: ScheduleCatchup;
  /** How far back missed fires are made up (default one year); older ones are dropped. */
  catchupWindowMs?: number;
  /**
   * A fire that comes while the schedule's previous run is pending, running or sleeping:
   * `'skip'` (default) records no run for it, `'allow'` starts it anyway, `'queue'` starts it
   * when the previous run stops (queued fires run one at a time, in order). A suspended run does
   * not count as active: it waits for a person.
   */
  overlap?: ScheduleOverlap;
}

/** `schedule` of createWorkflow: one schedule, or an array of schedules each with a unique `id`. */
export type WorkflowScheduleInput<TInput = unknown, TState = unknown, TRequestContext = unknown> =
  WorkflowScheduleConfig<TInput, TState, TRequestContext> | WorkflowScheduleConfig<TInput, TState, TRequestContext>[];

/** What a scheduled run is started with and how its schedule behaves: the `spec` of a stored schedule. */
export interface ScheduleSpec {
  inputData?: unknown;
  initialState?: Record<string, unknown>;
  requestContext?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  catchup: ScheduleCatchup;
  catchupWindowMs: number;
  overlap: ScheduleOverlap;
}

/** A validated schedule of a workflow. */
export interface DeclaredSchedule {
  /** The stored schedule's id: `wf_<workflowId>` or `wf_<workflowId>__<id>`. */
  scheduleId: string;
  workflowId: string;
  cron: string;
  timezone: string | null;
  spec: ScheduleSpec;
}

/** The schemas a declaration is checked against. */
export interface ScheduleSchemas {
  inputSchema: Schema;
  stateSchema?: Schema | undefined;
  requestContextSchema?: Schema | undefined;
}

const CATCHUPS: readonly ScheduleCatchup[] = ['none', 'latest', 'all'];
const OVERLAPS: readonly ScheduleOverlap[] = ['allow', 'skip', 'queue'];
const FIELDS = new Set([
  'id',
  'cron',
  'timezone',
  'inputData',
  'initialState',
  'requestContext',
  'metadata',
  'catchup',
  'catchupWindowMs',
  'overlap',
]);

/** An id part of a stored schedule id: URL-encoded with `_` encoded too, so `__` and `_` only ever separate parts. */
function encodePart(id: string): string {
  return encodeURIComponent(id).replaceAll('_', '%5F');
}

/** The stored id of a workflow's schedule: `wf_<workflowId>` for a single one, `wf_<workflowId>__<id>` in an array. */
export function scheduleRowId(workflowId: string, id: string | undefined): string {
  return id === undefined ? `wf_${encodePart(workflowId)}` : `wf_${encodePart(workflowId)}__${encodePart(id)}`;
}

/** The run id of a schedule's fire: `sched_<scheduleId>_<fire time in ms>`, the same in every process. */
export function scheduledRunId(scheduleId: string, fireAt: number): string {
  return `sched_${scheduleId}_${fireAt}`;
}

const SCHEDULED_RUN_ID = /^sched_(wf_[^_]+(?:__[^_]+)?)_(\d+)$/;

/** The schedule id and fire time of a scheduled run's id, or null for any other run id. */
export function parseScheduledRunId(runId: string): { scheduleId: string; fireAt: number } | null {
  const match = SCHEDULED_RUN_ID.exec(runId);
  return match ? { scheduleId: match[1]!, fireAt: Number(match[2]) } : null;
}

/** `{ scheduleId }` for the id of a scheduled run (to list it with its schedule), else nothing. */
export function scheduleOf(runId: string): { scheduleId?: string } {
  const scheduled = runId.startsWith('sched_') ? parseScheduledRunId(runId) : null;
  return scheduled ? { scheduleId: scheduled.scheduleId } : {};
}

/**
 * Validates a workflow's `schedule` and returns its schedules, or throws `INVALID_DEFINITION` naming
 * what is wrong: a bad cron or timezone, an array entry without an id or with a repeated one, an
 * unknown policy, or `inputData`, `initialState` or `requestContext` its schemas refuse (checked
 * now when the schema answers synchronously; an asynchronous one checks at each fire).
 */
export function declareSchedules(workflowId: string, schedule: unknown, schemas: ScheduleSchemas): DeclaredSchedule[] {
  if (schedule === undefined || schedule === null) return [];
  const fail = (message: string): never => {
    throw new WeftError('INVALID_DEFINITION', message, { workflowId });
  };
  const isArray = Array.isArray(schedule);
  const entries: unknown[] = isArray ? schedule : [schedule];
  if (isArray) checkIds(workflowId, entries, fail);
  return entries.map((entry, index) => {
    const where = isArray ? `schedule[${index}]` : 'schedule';
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      fail(`Workflow "${workflowId}": ${where} must be an object such as { cron: "0 * * * *" }`);
    }
    const config = entry as Record<string, unknown>;
    const unknown = Object.keys(config).filter((key) => !FIELDS.has(key));
    if (unknown.length > 0) {
      fail(
        `Workflow "${workflowId}": ${where} has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; expected ${[...FIELDS].join(', ')}`,
      );
    }
    const id = config.id;
    if (id !== undefined && (typeof id !== 'string' || id === '')) {
      fail(`Workflow "${workflowId}": ${where}.id must be a non-empty string`);
    }
    const problem = cronProblem(config.cron, config.timezone);
    if (problem) fail(`Workflow "${workflowId}": ${where}: ${problem}`);
    const spec = specOf(config, where, fail);
    checkAgainstSchemas(workflowId, where, spec, schemas, fail);
    return {
      scheduleId: scheduleRowId(workflowId, id as string | undefined),
      workflowId,
      cron: config.cron as string,
      timezone: (config.timezone as string | undefined) ?? null,
      spec,
    };
  });
}

/** An array of schedules: every entry has an id, and no id comes twice (checked first, as Mastra does). */
function checkIds(workflowId: string, entries: unknown[], fail: (message: string) => never): void {
  const seen = new Set<unknown>();
  for (const entry of entries) {
    const id = (entry as { id?: unknown } | null)?.id;
    if (id === undefined || id === null || id === '') {
      fail(
        `Workflow "${workflowId}" declares an array of schedules but one entry is missing the required \`id\` field. Every entry in a schedule array must have a unique stable id.`,
      );
    }
    if (seen.has(id)) fail(`Workflow "${workflowId}" declares duplicate schedule id "${String(id)}".`);
    seen.add(id);
  }
}

function specOf(config: Record<string, unknown>, where: string, fail: (message: string) => never): ScheduleSpec {
  const catchup = config.catchup ?? DEFAULT_CATCHUP;
  if (!CATCHUPS.includes(catchup as ScheduleCatchup)) {
    fail(`${where}.catchup must be one of ${CATCHUPS.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(catchup)}`);
  }
  const overlap = config.overlap ?? DEFAULT_OVERLAP;
  if (!OVERLAPS.includes(overlap as ScheduleOverlap)) {
    fail(`${where}.overlap must be one of ${OVERLAPS.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(overlap)}`);
  }
  const window = config.catchupWindowMs ?? DEFAULT_CATCHUP_WINDOW_MS;
  if (typeof window !== 'number' || !Number.isFinite(window) || window < 0) {
    fail(`${where}.catchupWindowMs must be a number of milliseconds, 0 or more, got ${JSON.stringify(window)}`);
  }
  for (const field of ['initialState', 'requestContext', 'metadata'] as const) {
    const value = config[field];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      fail(`${where}.${field} must be a plain object`);
    }
  }
  const spec: ScheduleSpec = {
    catchup: catchup as ScheduleCatchup,
    catchupWindowMs: window as number,
    overlap: overlap as ScheduleOverlap,
  };
  if (config.inputData !== undefined) spec.inputData = config.inputData;
  if (config.initialState !== undefined) spec.initialState = config.initialState as Record<string, unknown>;
  if (config.requestContext !== undefined) spec.requestContext = config.requestContext as Record<string, unknown>;
  if (config.metadata !== undefined) spec.metadata = config.metadata as Record<string, unknown>;
  try {
    JSON.stringify(spec);
  } catch (error) {
    fail(`${where} must be JSON-serializable to be stored: ${(error as Error).message}`);
  }
  return spec;
}

function checkAgainstSchemas(
  workflowId: string,
  where: string,
  spec: ScheduleSpec,
  schemas: ScheduleSchemas,
  fail: (message: string) => never,
): void {
  const checks: [string, Schema | undefined, unknown][] = [
    ['inputData', schemas.inputSchema, spec.inputData],
    ['initialState', schemas.stateSchema, spec.initialState ?? {}],
    ['requestContext', schemas.requestContextSchema, spec.requestContext ?? {}],
  ];
  for (const [field, schema, value] of checks) {
    if (!schema) continue;
    const result = validate(schema, value);
    // An asynchronous schema answers later: the run checks it at each fire, as any start does.
    if (result instanceof Promise) {
      result.catch(() => undefined);
      continue;
    }
    if (!result.ok) {
      fail(
        `Workflow "${workflowId}": ${where}.${field} does not match the workflow's schema:${formatIssues(result.issues)}`,
      );
    }
  }
}
