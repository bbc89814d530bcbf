// A clock for tests: time moves only when told, so a 60 s sleep is tested without waiting.
import type { Clock } from '../engine/execution.js';

/** A `Clock` with `advance(ms)`; `sleepers()` tells how many sleeps are waiting. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  sleepers(): number;
}

/**
 * A clock whose time moves only when `advance` is called; sleeps wake once time passes their end.
 *
 * @example
 * const clock = createManualClock();
 * const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage(), clock });
 * const done = (await wf.createRun()).start({ inputData });
 * clock.advance(60_000); // the 60 s sleep ends now
 */
export function createManualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  const waiting = new Set<{ until: number; wake: () => void }>();
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve) => {
        if (ms <= 0 || signal.aborted) return resolve();
        const entry = {
          until: now + ms,
          wake: () => {
            waiting.delete(entry);
            signal.removeEventListener('abort', entry.wake);
            resolve();
          },
        };
        waiting.add(entry);
        signal.addEventListener('abort', entry.wake, { once: true });
      });
    },
    advance(ms) {
      now += ms;
      for (const w of [...waiting]) if (w.until <= now) w.wake();
    },
    sleepers: () => waiting.size,
  };
}
