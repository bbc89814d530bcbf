// Routes that operate a stored run: resume, cancel, restart and time-travel.
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { WorkflowResult } from '../workflow/types.js';
import type { Run } from '../workflow/run-types.js';
import { launchAction } from './launch-action.js';
import { openStoredRun } from './run-handle.js';
import {
  optionalBoolean,
  optionalIndex,
  optionalObject,
  optionalStepTarget,
  optionalString,
  readJsonObject,
  type JsonObject,
} from './request-input.js';
import type { ServerContext } from './server-context.js';
import { HttpError } from './http-error.js';
import { wireJson } from './wire-json.js';

const RESUME_FIELDS = ['resumeData', 'step', 'label', 'forEachIndex', 'requestContext', 'perStep', 'wait'];
const RESTART_FIELDS = ['requestContext', 'wait'];
const TIME_TRAVEL_FIELDS = [
  'step',
  'inputData',
  'resumeData',
  'context',
  'nestedStepsContext',
  'initialState',
  'requestContext',
  'perStep',
  'wait',
];

type ActionName = 'resume' | 'restart' | 'time-travel';

async function operate(
  c: Context,
  ctx: ServerContext,
  name: ActionName,
  fields: readonly string[],
  act: (run: Run, body: JsonObject) => Promise<WorkflowResult>,
): Promise<Response> {
  const runId = c.req.param('runId') ?? '';
  const body = await readJsonObject(c, fields);
  const wait = optionalBoolean(body, 'wait') ?? false;
  const { run, view } = await openStoredRun(ctx.weft, runId);
  const outcome = await launchAction(act(run, body), wait ? Infinity : ctx.actionWaitMs, (error) =>
    ctx.logger.warn(
      `Run "${runId}" of workflow "${view.workflowName}" ended with an error after its ${name} request`,
      error,
    ),
  );
  if (outcome.settled) return wireJson(c, { runId, status: outcome.result.status, result: outcome.result });
  return wireJson(c, { runId, status: 'running' }, 202);
}

/** `POST /runs/:runId/resume | cancel | restart | time-travel`. */
export function runActionRoutes(ctx: ServerContext): Hono {
  const app = new Hono();

  app.post('/runs/:runId/resume', (c) =>
    operate(c, ctx, 'resume', RESUME_FIELDS, (run, body) => {
      const step = optionalStepTarget(body, 'step');
      const label = optionalString(body, 'label');
      const forEachIndex = optionalIndex(body, 'forEachIndex');
      const requestContext = optionalObject(body, 'requestContext');
      const perStep = optionalBoolean(body, 'perStep');
      return run.resume({
        resumeData: body.resumeData,
        ...(step !== undefined ? { step } : {}),
        ...(label !== undefined ? { label } : {}),
        ...(forEachIndex !== undefined ? { forEachIndex } : {}),
        ...(requestContext ? { requestContext } : {}),
        ...(perStep !== undefined ? { perStep } : {}),
      });
    }),
  );

  app.post('/runs/:runId/restart', (c) =>
    operate(c, ctx, 'restart', RESTART_FIELDS, (run, body) => {
      const requestContext = optionalObject(body, 'requestContext');
      return run.restart(requestContext ? { requestContext } : {});
    }),
  );

  app.post('/runs/:runId/time-travel', (c) =>
    operate(c, ctx, 'time-travel', TIME_TRAVEL_FIELDS, (run, body) => {
      const step = optionalStepTarget(body, 'step');
      if (step === undefined)
        throw new HttpError(400, 'INVALID_REQUEST', 'Field "step" is required: the step to travel back to');
      const context = optionalObject(body, 'context');
      const nestedStepsContext = optionalObject(body, 'nestedStepsContext');
      const initialState = optionalObject(body, 'initialState');
      const requestContext = optionalObject(body, 'requestContext');
      const perStep = optionalBoolean(body, 'perStep');
      return run.timeTravel({
        step,
        ...('inputData' in body ? { inputData: body.inputData } : {}),
        ...('resumeData' in body ? { resumeData: body.resumeData } : {}),
        ...(context ? { context: context as never } : {}),
        ...(nestedStepsContext ? { nestedStepsContext: nestedStepsContext as never } : {}),
        ...(initialState ? { initialState } : {}),
        ...(requestContext ? { requestContext } : {}),
        ...(perStep !== undefined ? { perStep } : {}),
      });
    }),
  );

  app.post('/runs/:runId/cancel', async (c) => {
    const runId = c.req.param('runId');
    await readJsonObject(c, []);
    const { run } = await openStoredRun(ctx.weft, runId);
    await run.cancel();
    const after = await ctx.weft.getRun(runId);
    return wireJson(c, { runId, status: after?.status ?? 'canceled' });
  });

  return app;
}
