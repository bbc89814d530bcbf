// The plans of the verbs: what start, resume, time travel and restart (or recovery's takeover) claim, and where their execution begins.
// Each checks its arguments against the stored run first and throws, changing nothing, on bad ones.
import { WeftError } from '../errors.js';
import type { RunResumeData, RunStartData } from '../journal/entries.js';
import { RunProjection } from '../journal/projection.js';
import { RequestContext } from '../request-context.js';
import { formatIssues, validate, type Issue, type ValidationResult } from '../schema/validate.js';
import { readRunAndJournal } from '../storage/read-run.js';
import type { JournalEntry, RunStatus } from '../storage/types.js';
import { projectionOf } from './load-projection.js';
import type { SuspendedCopy } from './suspended-runs.js';
import type { Workflow } from '../workflow/create-workflow.js';
import type { AnySchema } from '../workflow/types.js';
import { storable, type RunPlan } from './pipeline.js';
import { resolveResumeTarget } from './resume-target.js';
import type { RunServices } from './run-services.js';
import type { ResumeArgs, StartArgs, TimeTravelArgs } from '../workflow/run-types.js';
import { prepareTimeTravel } from './time-travel.js';

type Context = RequestContext<any> | Record<string, unknown> | undefined;

/** A plain object of request context values from either form callers pass. */
function plainContext(rc: Context): Record<string, unknown> {
  if (!rc) return {};
  if (rc instanceof RequestContext) return rc.toJSON();
  if (typeof (rc as { entries?: unknown }).entries === 'function')
    return Object.fromEntries((rc as unknown as RequestContext).entries());
  return { ...rc };
}

/** The caller's request context, completed with the stored values it does not set. */
function contextFrom(stored: Record<string, unknown>, given: Context): RequestContext<any> {
  const rc = given instanceof RequestContext ? given : new RequestContext(plainContext(given));
  for (const [k, v] of Object.entries(stored)) if (!rc.has(k)) rc.set(k, v);
  return rc;
}

type Valid = { ok: true; value: unknown };

/**
 * The value parsed by `schema`, through a promise only when the schema validates asynchronously (callers
 * await only a promise: an await costs a turn of the microtask queue); throws `fail(issues)` when invalid.
 */
function parseArgument(
  schema: AnySchema | undefined,
  value: unknown,
  fail: (issues: Issue[]) => WeftError,
): Valid | Promise<Valid> {
  if (!schema) return { ok: true, value };
  const r = validate(schema, value);
  return r instanceof Promise ? r.then((v) => validOrThrow(v, fail)) : validOrThrow(r, fail);
}

function validOrThrow(result: ValidationResult<unknown>, fail: (issues: Issue[]) => WeftError): Valid {
  if (!result.ok) throw fail(result.issues);
  return result;
}

/** The start of a new run: its input, initial state and request context checked, `onStart` called. Null: the run was canceled before it started. */
export async function planStart(
  services: RunServices,
  workflow: Workflow,
  run: { runId: string; resourceId: string | undefined },
  args: StartArgs<unknown>,
): Promise<RunPlan | null> {
  const { runId } = run;
  const graph = workflow.graph;
  const wfId = workflow.id;
  const input = parseArgument(
    graph.inputSchema,
    args.inputData,
    (issues) =>
      new WeftError('INVALID_INPUT', `Invalid input data: ${formatIssues(issues)}`, {
        runId,
        workflowId: wfId,
        issues,
      }),
  );
  const inputData = (input instanceof Promise ? await input : input).value;
  const state = parseArgument(
    graph.stateSchema,
    args.initialState ?? {},
    (issues) =>
      new WeftError('INVALID_INITIAL_STATE', `Invalid initial data: ${formatIssues(issues)}`, {
        runId,
        workflowId: wfId,
        issues,
      }),
  );
  const initialState = (state instanceof Promise ? await state : state).value as Record<string, unknown>;
  const requestContext =
    args.requestContext instanceof RequestContext
      ? args.requestContext
      : new RequestContext(plainContext(args.requestContext));
  const contextSchema = graph.requestContextSchema;
  if (contextSchema) {
    const context = parseArgument(
      contextSchema,
      requestContext.toJSON(),
      (issues) =>
        new WeftError(
          'INVALID_REQUEST_CONTEXT',
          `Request context validation failed for workflow '${wfId}': ${formatIssues(issues)}`,
          { runId, workflowId: wfId, issues },
        ),
    );
    if (context instanceof Promise) await context;
  }
  if (workflow.options.onStart) {
    // onStart must not run for a run canceled before it started; without it, the claim tells.
    if ((await services.storage.getRun(runId))?.status === 'canceled') return null;
    await workflow.options.onStart({
      status: 'running',
      runId,
      workflowId: wfId,
      resourceId: run.resourceId,
      steps: {},
      state: initialState,
      stepExecutionPath: [],
      requestContext,
      getInitData: () => inputData as any,
      logger: services.logger,
      weft: services.instance,
      mastra: services.instance,
    });
  }
  const startData: RunStartData = {
    input: inputData,
    state: initialState,
    requestContext: requestContext.toJSON(),
    resourceId: run.resourceId ?? null,
  };
  if (args.perStep) startData.perStep = true;
  return {
    claim: { verb: 'start', from: ['pending'], input: storable(inputData ?? null, 'input', runId) },
    begin: {
      projection: new RunProjection(),
      requestContext,
      perStep: args.perStep === true,
      opening: ['run-start', startData],
      journal: [],
    },
    outputOptions: args.outputOptions,
  };
}

/** How long a resume waits for a run still on its way to a suspension (here or in another process). */
const RESUME_WAIT_MS = 2000;
const RESUME_POLL_MS = 25;

/**
 * What a resume plans from: the run's status and epoch and its journal, as storage holds them or as this
 * process copied them when the run suspended here (`copy`, see `SuspendedRuns`).
 */
interface ResumeSource {
  status: RunStatus;
  epoch: number;
  journal: readonly JournalEntry[];
  copy?: SuspendedCopy;
}

/** This process's copy of a run that suspended here, unless the run executes here now. */
function copiedRun(services: RunServices, runId: string): ResumeSource | undefined {
  const copy = services.local.execution(runId) ? undefined : services.suspended?.get(runId);
  return copy && { status: 'suspended', epoch: copy.epoch, journal: copy.journal, copy };
}

/**
 * The run as storage holds it once it is not pending, running or waiting, or as last seen after a
 * bounded wait. Row and journal are read together: one round trip where the store allows
 * (`readRunAndJournal`).
 */
async function settledRun(services: RunServices, runId: string): Promise<ResumeSource | null> {
  const deadline = Date.now() + RESUME_WAIT_MS;
  for (;;) {
    await services.local.execution(runId)?.finished;
    const read = await readRunAndJournal(services.storage, runId);
    if (!read) return null;
    const { status, epoch } = read.run;
    if (!['pending', 'running', 'waiting'].includes(status) || Date.now() >= deadline)
      return { status, epoch, journal: read.journal };
    await new Promise((resolve) => setTimeout(resolve, RESUME_POLL_MS));
  }
}

/**
 * The resume of suspended steps: which ones (see `resolveResumeTarget`), with their resume data checked.
 * Planned from this process's copy of the run when it has one and `fromStorage` is not set (`fromCopy`):
 * the claim then requires the row unchanged since the copy, and a refused claim means the copy was out
 * of date (`Run.resume` plans again from storage, unless the copy was superseded here). A copy that the
 * arguments do not fit is checked against storage before an error is thrown.
 */
export async function planResume(
  services: RunServices,
  workflow: Workflow,
  runId: string,
  args: ResumeArgs,
  fromStorage = false,
): Promise<RunPlan & { fromCopy?: SuspendedCopy | undefined }> {
  const copy = fromStorage ? undefined : copiedRun(services, runId);
  if (copy) {
    try {
      return await resumePlan(workflow, runId, args, copy);
    } catch {
      // Out of date, perhaps: what storage holds decides.
    }
  }
  return resumePlan(workflow, runId, args, await settledRun(services, runId));
}

async function resumePlan(
  workflow: Workflow,
  runId: string,
  args: ResumeArgs,
  read: ResumeSource | null,
): Promise<RunPlan & { fromCopy?: SuspendedCopy | undefined }> {
  if (!read) throw new WeftError('RUN_NOT_FOUND', `Cannot resume run "${runId}": no such run in storage`, { runId });
  if (read.status !== 'suspended') {
    throw new WeftError(
      'RUN_NOT_SUSPENDED',
      `Cannot resume run "${runId}": its status is "${read.status}", expected "suspended" (This workflow run was not suspended)`,
      { runId, workflowId: workflow.id, actualStatus: read.status },
    );
  }
  const projection = projectionOf(runId, read.journal);
  const target = resolveResumeTarget(workflow, projection, runId, args);
  const resume = parseArgument(
    target.resumeSchema,
    args.resumeData,
    (issues) =>
      new WeftError('INVALID_RESUME_DATA', `Invalid resume data: ${formatIssues(issues)}`, {
        runId,
        stepId: target.stepId,
        issues,
      }),
  );
  const resumeData = (resume instanceof Promise ? await resume : resume).value;
  const requestContext = contextFrom(projection.requestContext, args.requestContext);
  const data: RunResumeData = { keys: target.keys, resumeData, requestContext: requestContext.toJSON() };
  if (args.label) data.label = args.label;
  if (args.perStep) data.perStep = true;
  return {
    claim: { verb: 'resume', from: ['suspended'], epoch: read.epoch, seen: read.copy?.updatedAt },
    begin: {
      projection,
      requestContext,
      perStep: args.perStep === true,
      resumeKeys: target.keys,
      resumeData,
      resumeLabel: args.label || undefined,
      opening: ['run-resume', data],
      journal: read.journal,
    },
    outputOptions: args.outputOptions,
    fromCopy: read.copy,
  };
}

/**
 * The takeover of a running or waiting run whose owner is gone: by `restart()` (any epoch), or by recovery
 * (`epoch`: the one it saw expire). Execution continues from the journal as read once the run is claimed,
 * with the latest resume still in force. Null: nothing to take over, the result is what storage holds (a
 * finished run, or one this process executes, which has been waited for).
 */
export async function planTakeover(
  services: RunServices,
  workflow: Workflow,
  runId: string,
  epoch: number | undefined,
  rc: Context,
): Promise<RunPlan | null> {
  // The run executes in this very process (e.g. automatic recovery took it first): its owner is
  // alive, so wait for it instead of taking over and running its current step a second time.
  const local = services.local.stopped(runId);
  if (local) {
    await local;
    return null;
  }
  const row = await services.storage.getRun(runId);
  if (!row) throw new WeftError('RUN_NOT_FOUND', `Cannot restart run "${runId}": no such run in storage`, { runId });
  if (row.status === 'success' || row.status === 'failed') return null;
  if (row.status !== 'running' && row.status !== 'waiting') {
    throw new WeftError(
      'RUN_NOT_ACTIVE',
      `Cannot restart run "${runId}": its status is "${row.status}", expected "running" or "waiting" (This workflow run was not active)`,
      { runId, workflowId: workflow.id, actualStatus: row.status },
    );
  }
  return {
    claim: { verb: 'restart', from: ['running', 'waiting'], ...(epoch === undefined ? {} : { epoch }) },
    begin: (projection) => {
      const requestContext = contextFrom(projection.requestContext, rc);
      return {
        projection,
        requestContext,
        perStep: projection.perStep,
        resumeKeys: projection.resumeKeys,
        resumeData: projection.resumeData,
        resumeLabel: projection.resumeLabel || undefined,
        opening: ['run-restart', { requestContext: requestContext.toJSON() }],
      };
    },
  };
}

/** A time travel: the target and the records that stand in for earlier steps (see `prepareTimeTravel`). */
export async function planTimeTravel(
  services: RunServices,
  workflow: Workflow,
  runId: string,
  args: TimeTravelArgs,
): Promise<RunPlan> {
  const stillRunning = (status: RunStatus): WeftError =>
    new WeftError(
      'RUN_STILL_RUNNING',
      `Cannot time travel run "${runId}": its status is "${status}" (This workflow run is still running, cannot time travel)`,
      { runId, actualStatus: status },
    );
  // Refused at once, as in the reference: waiting for the execution here would deadlock a step that time-travels its own run.
  if (services.local.execution(runId)) throw stillRunning('running');
  const read = await readRunAndJournal(services.storage, runId);
  if (!read)
    throw new WeftError('RUN_NOT_FOUND', `Cannot time travel run "${runId}": no such run in storage`, { runId });
  const row = read.run;
  if (row.status === 'running' || row.status === 'waiting') throw stillRunning(row.status);
  const projection = projectionOf(runId, read.journal);
  const travel = await prepareTimeTravel(workflow, projection, runId, args);
  const requestContext = contextFrom(projection.requestContext, args.requestContext);
  return {
    claim: { verb: 'time travel', from: [row.status], epoch: row.epoch },
    begin: {
      projection,
      requestContext,
      perStep: args.perStep === true,
      resumeKeys: travel.resumeKeys,
      resumeData: args.resumeData,
      opening: ['run-time-travel', { ...travel.data, requestContext: requestContext.toJSON() }],
      journal: read.journal,
    },
    outputOptions: args.outputOptions,
  };
}
