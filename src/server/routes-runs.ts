// Routes of stored runs: list with filters and pages, get one (with attempts), create and start, delete.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { WeftError, refusedBeforeClaim } from '../errors.js';
import { checkRunId } from '../run/run-id.js';
import type { RunStatus } from '../storage/types.js';
import { launchAction, type LaunchOutcome } from './launch-action.js';
import { requireRunView } from './run-handle.js';
import {
  optionalBoolean,
  optionalObject,
  optionalString,
  queryDate,
  queryInt,
  queryStatuses,
  readJsonObject,
  requiredString,
} from './request-input.js';
import type { ServerContext } from './server-context.js';
import { findWorkflow } from './weft-host.js';
import { wireJson } from './wire-json.js';

const START_FIELDS = ['runId', 'resourceId', 'inputData', 'initialState', 'requestContext', 'perStep', 'wait'];
const ACTIVE: readonly RunStatus[] = ['running', 'waiting'];
const DEFAULT_PER_PAGE = 50;

/**
 * Creates a run of `workflowId` (or of `body.workflowId` when null) and starts it. Answers 201
 * with the result when the run settles within the wait (always with `wait: true`), else 202.
 */
export async function startRun(c: Context, ctx: ServerContext, workflowId: string | null): Promise<Response> {
  const body = await readJsonObject(c, workflowId === null ? ['workflowId', ...START_FIELDS] : START_FIELDS);
  const id = workflowId ?? requiredString(body, 'workflowId');
  const workflow = findWorkflow(ctx.weft, id);
  if (!workflow)
    throw new WeftError('WORKFLOW_NOT_FOUND', `Workflow "${id}" is not loaded on this server`, { workflowId: id });
  const runId = optionalString(body, 'runId');
  if (runId !== undefined) checkRunId(runId);
  const resourceId = optionalString(body, 'resourceId');
  const initialState = optionalObject(body, 'initialState');
  const requestContext = optionalObject(body, 'requestContext');
  const perStep = optionalBoolean(body, 'perStep');
  const wait = optionalBoolean(body, 'wait') ?? false;
  if (runId !== undefined && (await ctx.weft.getRun(runId))) {
    throw new WeftError('RUN_ALREADY_CLAIMED', `Run "${runId}" already exists; choose another runId or resume it`, {
      runId,
    });
  }
  const run = await workflow.createRun({
    ...(runId !== undefined ? { runId } : {}),
    ...(resourceId !== undefined ? { resourceId } : {}),
  });
  const action = run.start({
    inputData: body.inputData,
    ...(initialState ? { initialState } : {}),
    ...(requestContext ? { requestContext } : {}),
    ...(perStep !== undefined ? { perStep } : {}),
  });
  let outcome: LaunchOutcome;
  try {
    outcome = await launchAction(action, wait ? Infinity : ctx.actionWaitMs, (error) =>
      ctx.logger.warn(
        `Run "${run.runId}" of workflow "${workflow.id}" ended with an error after its start request`,
        error,
      ),
    );
  } catch (error) {
    // Refused before it was claimed (invalid input, state or request context), on a run id this server
    // made up: nobody else knows the run, and the caller gets an error rather than its id, so none is kept.
    if (runId === undefined && refusedBeforeClaim(error)) {
      await ctx.weft.deleteRun(run.runId).catch(() => undefined);
    }
    throw error;
  }
  c.header('Location', `/api/runs/${encodeURIComponent(run.runId)}`);
  if (outcome.settled) {
    return wireJson(
      c,
      { runId: run.runId, workflowId: workflow.id, status: outcome.result.status, result: outcome.result },
      201,
    );
  }
  return wireJson(c, { runId: run.runId, workflowId: workflow.id, status: 'running' }, 202);
}

/**
 * Who executes a running or sleeping run, and whether that process still holds it: a run whose
 * lease expired has lost its owner (recovery or a restart continues it). Null for other statuses.
 */
async function leaseOf(
  ctx: ServerContext,
  view: { runId: string; status: RunStatus },
): Promise<{ owner: string | null; expiresAt: number | null; expired: boolean } | null> {
  if (!ACTIVE.includes(view.status)) return null;
  const row = await ctx.weft.storage.getRun(view.runId);
  if (!row) return null;
  const expiresAt = row.leaseExpiresAt;
  return { owner: row.leaseOwner, expiresAt, expired: expiresAt === null || expiresAt <= Date.now() };
}

/** `GET /runs`, `POST /runs`, `GET /runs/:runId`, `DELETE /runs/:runId`. */
export function runRoutes(ctx: ServerContext): Hono {
  const app = new Hono();

  app.get('/runs', async (c) => {
    const workflowId = c.req.query('workflowId') || undefined;
    const resourceId = c.req.query('resourceId') || undefined;
    const scheduleId = c.req.query('scheduleId') || undefined;
    const status = queryStatuses(c);
    const fromDate = queryDate(c, 'fromDate');
    const toDate = queryDate(c, 'toDate');
    const page = queryInt(c, 'page', 0, 1_000_000) ?? 0;
    const perPage = queryInt(c, 'perPage', 1, 1000) ?? DEFAULT_PER_PAGE;
    const list = await ctx.weft.listRuns({
      ...(workflowId !== undefined ? { workflowId } : {}),
      ...(resourceId !== undefined ? { resourceId } : {}),
      ...(scheduleId !== undefined ? { scheduleId } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(fromDate !== undefined ? { fromDate } : {}),
      ...(toDate !== undefined ? { toDate } : {}),
      page,
      perPage,
    });
    return wireJson(c, { runs: list.runs, total: list.total, page, perPage });
  });

  app.post('/runs', (c) => startRun(c, ctx, null));

  app.get('/runs/:runId', async (c) => {
    const view = await requireRunView(ctx.weft, c.req.param('runId'));
    const workflowLoaded = findWorkflow(ctx.weft, view.workflowName) !== undefined;
    return wireJson(c, { ...view, workflowId: view.workflowName, workflowLoaded, lease: await leaseOf(ctx, view) });
  });

  app.delete('/runs/:runId', async (c) => {
    const runId = c.req.param('runId');
    const view = await requireRunView(ctx.weft, runId);
    if (ACTIVE.includes(view.status)) {
      throw new WeftError(
        'RUN_STILL_RUNNING',
        `Cannot delete run "${runId}": its status is "${view.status}"; cancel it first`,
        { runId, actualStatus: view.status },
      );
    }
    await ctx.weft.deleteRun(runId);
    return wireJson(c, { runId, deleted: true });
  });

  return app;
}
