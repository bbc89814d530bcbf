// Routes of loaded workflows: list them with graphs and JSON Schemas, describe one, start a run of one.
import { Hono } from 'hono';
import { WeftError } from '../errors.js';
import { describeWorkflow } from './describe-workflow.js';
import { startRun } from './routes-runs.js';
import type { ServerContext } from './server-context.js';
import { wireJson } from './wire-json.js';
import { findWorkflow } from './weft-host.js';

/** `GET /workflows`, `GET /workflows/:workflowId`, `POST /workflows/:workflowId/runs`. */
export function workflowRoutes(ctx: ServerContext): Hono {
  const app = new Hono();

  app.get('/workflows', (c) => {
    const workflows = Object.entries(ctx.weft.listWorkflows()).map(([key, wf]) => describeWorkflow(wf, key));
    return wireJson(c, { workflows });
  });

  app.get('/workflows/:workflowId', (c) => {
    const workflowId = c.req.param('workflowId');
    const workflow = findWorkflow(ctx.weft, workflowId);
    if (!workflow) {
      throw new WeftError('WORKFLOW_NOT_FOUND', `Workflow "${workflowId}" is not loaded on this server`, {
        workflowId,
      });
    }
    return wireJson(c, describeWorkflow(workflow));
  });

  app.post('/workflows/:workflowId/runs', (c) => startRun(c, ctx, c.req.param('workflowId')));

  return app;
}
