// Shares the event loop among executions: steps that settle at once chain as microtasks and would
// otherwise starve timers and I/O while thousands of runs execute.

/** How long executions may keep the event loop busy before timers and I/O get a turn (ms). */
const BUSY_SLICE_MS = 4;
/** Calls between two readings of the clock while no execution waits. */
const CHECK_EVERY = 16;
/** Most executions one turn lets go on. */
const MAX_BATCH = 4096;

let callsSinceCheck = 0;
/** When the current slice of continuous execution began. */
let sliceStart = 0;
/**
 * A macrotask armed when the slice began has not run yet: the event loop has not turned since. Once
 * it ran, the slice is over (the loop was idle, or busy with others) and the next check that finds it
 * used up starts a new one instead of yielding.
 */
let turnPending = false;
/** Executions waiting for a turn, first come first served. */
let waiting: (() => void)[] = [];
/** How many waiting executions one turn lets go on: adapted so that a turn takes about one slice. */
let batch = 64;
/** When the last batch was let go, while executions wait (0 otherwise). */
let releasedAt = 0;
let scheduled = false;

const macrotask: (resume: () => void) => void =
  typeof setImmediate === 'function' ? (resume) => setImmediate(resume) : (resume) => setTimeout(resume, 0);

/**
 * A turn of the event loop to wait for, or undefined to go on at once. Once `BUSY_SLICE_MS` of
 * continuous execution are used up, every caller waits in line, and each turn of the event loop
 * lets the next batch go on, sized so that a turn takes about one slice. A batch that all
 * resumed at once would run every waiting execution's next step before the loop got a turn.
 */
export function eventLoopTurn(): Promise<void> | undefined {
  if (waiting.length === 0) {
    if (++callsSinceCheck < CHECK_EVERY) return undefined;
    callsSinceCheck = 0;
    const now = performance.now();
    if (now - sliceStart < BUSY_SLICE_MS) return undefined;
    if (!turnPending) {
      // The loop turned since the slice began: this stretch began after that, so it has a slice of its own.
      startSlice(now);
      return undefined;
    }
  }
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!scheduled) {
      scheduled = true;
      macrotask(releaseBatch);
    }
  });
}

const turned = (): void => {
  turnPending = false;
};

/** Starts a slice at `now`, arming the macrotask that tells when the loop next turns (at most one a slice). */
function startSlice(now: number): void {
  sliceStart = now;
  if (turnPending) return;
  turnPending = true;
  macrotask(turned);
}

function releaseBatch(): void {
  const now = performance.now();
  if (releasedAt > 0) {
    // The previous batch, and whatever else the loop did meanwhile, took `now - releasedAt`.
    const factor = Math.min(2, BUSY_SLICE_MS / Math.max(now - releasedAt, 0.01));
    batch = Math.max(1, Math.min(MAX_BATCH, Math.round(batch * factor)));
  }
  startSlice(now);
  const released = waiting.length <= batch ? waiting : waiting.splice(0, batch);
  if (released === waiting) waiting = [];
  if (waiting.length > 0) {
    releasedAt = now;
    macrotask(releaseBatch);
  } else {
    releasedAt = 0;
    scheduled = false;
  }
  for (const resume of released) resume();
}
