// Starting a run action from a request: answer with its outcome when it settles quickly, else 202 and let it go on.
import { WeftError } from '../errors.js';
import type { WorkflowResult } from '../workflow/types.js';

/** What a run action gave within the wait: its result, or nothing yet (it goes on in the background). */
export type LaunchOutcome = { settled: true; result: WorkflowResult } | { settled: false };

/**
 * Waits for `action` at most `waitMs` (forever when `waitMs` is Infinity). An error thrown within
 * the wait (invalid input, a run in the wrong status, a lost claim) propagates, so the request
 * gets a 4xx; an error after it is only logged, because the run records its own failure (a run
 * handed over as the engine closes is not logged: another instance continues it).
 */
export async function launchAction(
  action: Promise<WorkflowResult>,
  waitMs: number,
  onLateError: (error: unknown) => void,
): Promise<LaunchOutcome> {
  if (waitMs === Infinity) return { settled: true, result: await action };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<LaunchOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), waitMs);
  });
  const settled = action.then((result): LaunchOutcome => ({ settled: true, result }));
  try {
    const outcome = await Promise.race([settled, timeout]);
    if (!outcome.settled) {
      settled.catch((error: unknown) => {
        // Handed over when the engine closed: another instance continues the run; nothing went wrong.
        if (!WeftError.is(error, 'ENGINE_CLOSED')) onLateError(error);
      });
    }
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}
