// The catchup policy: which of a schedule's due fires are made when a scheduler finds them.
import type { ScheduleSpec } from './declaration.js';

/** How late a fire may be, beyond a tick, and still be on time rather than missed. */
export const ON_TIME_SLACK_MS = 1000;

/**
 * Which of the due fire times (oldest first, none after `now`) to make, oldest first. A fire at most
 * a tick (and a second) late is on time and always made; older ones were missed while no scheduler
 * ran: `'all'` makes each of them, `'latest'` the most recent, `'none'` none. Fires older than the
 * catchup window are never made.
 */
export function firesToMake(
  spec: Pick<ScheduleSpec, 'catchup' | 'catchupWindowMs'>,
  due: readonly number[],
  now: number,
  tickIntervalMs: number,
): number[] {
  const newest = due[due.length - 1];
  if (newest === undefined) return [];
  const onTime = tickIntervalMs + ON_TIME_SLACK_MS;
  if (spec.catchup === 'none') return now - newest <= onTime ? [newest] : [];
  const inWindow = due.filter((t) => now - t <= Math.max(spec.catchupWindowMs, onTime));
  if (spec.catchup === 'all') return inWindow;
  return inWindow.length > 0 ? [inWindow[inWindow.length - 1]!] : [];
}
