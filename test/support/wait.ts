// Waiting in tests: a pause, and polling until a condition holds (with a bound and a message saying what was awaited).

/** Resolves after `ms`. */
export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `check` holds, polling every `everyMs`; fails after `timeoutMs` naming `what` it waited for. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what = 'the condition',
  timeoutMs = 20_000,
  everyMs = 5,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await pause(everyMs);
  }
}
