// The jobs Weft puts on the graphile-worker queue: one task per workflow, a start or a resume of one run.
import { WeftError } from '../errors.js';

/** graphile-worker's schema when none is given. */
export const DEFAULT_QUEUE_SCHEMA = 'graphile_worker';

/** A start of a pending run. The input travels in the job until a worker claims the run. */
export interface StartJob {
  action: 'start';
  runId: string;
  inputData?: unknown;
  initialState?: Record<string, unknown>;
  requestContext?: Record<string, unknown>;
  perStep?: boolean;
}

/**
 * A resume of one suspension of a run: `epoch` is the run's epoch when it was enqueued. Every
 * claim bumps the epoch, so once the run was resumed (by this job or anyone) the job is void.
 */
export interface ResumeJob {
  action: 'resume';
  runId: string;
  epoch: number;
  resumeData?: unknown;
  step?: string | string[];
  label?: string;
  forEachIndex?: number;
  requestContext?: Record<string, unknown>;
  perStep?: boolean;
}

export type WeftJob = StartJob | ResumeJob;

/**
 * The graphile-worker task of a workflow's runs. A worker only fetches the tasks it has, so a
 * run is executed only by a worker that registered its workflow.
 */
export function taskIdentifier(workflowId: string): string {
  return `weft:${workflowId}`;
}

/** The workflow id of a task identifier made by `taskIdentifier`. */
export function workflowOfTask(identifier: string): string {
  return identifier.slice('weft:'.length);
}

/**
 * The job key: a second enqueue of the same start, or of the resume of the same suspension,
 * finds the job already there and adds nothing.
 */
export function jobKey(job: WeftJob): string {
  return job.action === 'start' ? `${job.runId}:start` : `${job.runId}:resume:${job.epoch}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a payload read from the queue; throws INVALID_ARGUMENT saying what is wrong. */
export function parseJob(payload: unknown, jobId: string): WeftJob {
  const fail = (what: string): never => {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Cannot execute queue job ${jobId}: ${what}; it was not enqueued by Weft's queue`,
    );
  };
  if (!isObject(payload)) return fail('its payload is not an object');
  if (typeof payload.runId !== 'string' || payload.runId === '') return fail('its payload has no "runId"');
  if (payload.action === 'start') return payload as unknown as StartJob;
  if (payload.action === 'resume') {
    if (typeof payload.epoch !== 'number') return fail('its resume payload has no "epoch"');
    return payload as unknown as ResumeJob;
  }
  return fail(`its action is ${JSON.stringify(payload.action)}, expected "start" or "resume"`);
}
