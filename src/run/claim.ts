// Claiming a run by compare-and-set: what a claim changes, why one is refused, and the claim a writer's first write makes.
import { WeftError } from '../errors.js';
import { eventLoopTurn } from '../engine/event-loop-turns.js';
import type { DeferredClaim } from '../journal/writer.js';
import type { RunChange, RunCondition, RunStatus, StoredRun } from '../storage/types.js';
import type { RunServices } from './run-services.js';

/** What a claim requires and stores: one of the statuses `from`, the epoch last seen when given, and the run's input. */
export interface ClaimSpec {
  /** The verb its errors name: `start`, `resume`, `time travel`, `restart`. */
  verb: string;
  from: readonly RunStatus[];
  epoch?: number;
  /** The `updatedAt` of the row last seen, when the claim requires it unchanged since (a resume planned from a copy). */
  seen?: number | undefined;
  /** The workflow input's JSON text, stored on the row by a start. */
  input?: string;
}

/** What a claim changes: the run is running here, under a new epoch and this instance's lease. */
function claimChange(services: RunServices, input: string | undefined): RunChange & { bumpEpoch: true } {
  const now = services.clock.now();
  const change: RunChange & { bumpEpoch: true } = {
    status: 'running',
    bumpEpoch: true,
    leaseOwner: services.instanceId,
    leaseExpiresAt: now + services.leaseMs,
    wakeAt: null,
    updatedAt: now,
  };
  if (input !== undefined) change.input = input;
  return change;
}

function claimCondition(spec: ClaimSpec): RunCondition {
  const condition: RunCondition = { status: spec.from };
  if (spec.epoch !== undefined) condition.epoch = spec.epoch;
  if (spec.seen !== undefined) condition.updatedAt = spec.seen;
  return condition;
}

/** Why a claim found the run in no state to take: RUN_ALREADY_CLAIMED with what was found, or RUN_NOT_FOUND. */
async function claimRefused(services: RunServices, runId: string, spec: ClaimSpec): Promise<WeftError> {
  const { verb, from } = spec;
  const current = await services.storage.getRun(runId);
  // A start finding the run past "running" is a second start, not a lost race.
  const hint =
    verb === 'start' && current && current.status !== 'running' && current.status !== 'waiting'
      ? 'a run starts only once: create a new run, or time travel to run it again'
      : 'another caller claimed it first';
  return new WeftError(
    current ? 'RUN_ALREADY_CLAIMED' : 'RUN_NOT_FOUND',
    current
      ? `Cannot ${verb} run "${runId}": its status is "${current.status}", expected ${from.map((s) => `"${s}"`).join(' or ')}; ${hint}`
      : `Cannot ${verb} run "${runId}": no such run in storage`,
    { runId, ...(current ? { actualStatus: current.status } : {}) },
  );
}

/** Claims a run by compare-and-set now; returns the new row or throws RUN_ALREADY_CLAIMED with what was found. */
export async function claimNow(services: RunServices, runId: string, spec: ClaimSpec): Promise<StoredRun> {
  // Thousands of runs started at once would otherwise hold the event loop until all are claimed.
  const turn = eventLoopTurn();
  if (turn) await turn;
  const row = await services.storage.updateRun(runId, claimCondition(spec), claimChange(services, spec.input));
  if (row) {
    services.suspended?.forget(runId);
    return row;
  }
  throw await claimRefused(services, runId, spec);
}

/** The same claim, made by the execution's first write (see `DeferredClaim`); `claimed` is called once it is made. */
export function deferredClaim(
  services: RunServices,
  runId: string,
  spec: ClaimSpec,
  claimed: (() => void) | undefined,
  /** The run's insert, if not waited for: when it failed, the claim is refused with its error. */
  created?: Promise<unknown>,
): DeferredClaim {
  const condition = claimCondition(spec);
  const change = claimChange(services, spec.input);
  return {
    claimed,
    async write(entries, final) {
      const row = await services.storage.updateRun(runId, condition, final ? { ...change, ...final } : change, entries);
      if (row) {
        // This process's copy of the run, if any, no longer tells where it stands.
        services.suspended?.forget(runId);
        return row.epoch;
      }
      await created;
      throw await claimRefused(services, runId, spec);
    },
  };
}
