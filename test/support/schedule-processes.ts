// Two processes firing one schedule over one store: run them until enough fires ended, then check each fire ran once.
import { expect } from 'vitest';
import { Weft, type WeftStorage } from '../../src/index.js';
import { printed, reap, spawnChild, type Child } from './child-processes.js';
import { until } from './wait.js';

/** The schedule of `test/fixtures/schedule-process.ts`. */
export const EVERY_SECOND = 'wf_every-second';

/**
 * Starts two schedule processes with `env`, waits until `fires` scheduled runs succeeded, stops both
 * (SIGTERM) and checks, on `storage`, that the fires are whole seconds one after another, each with
 * exactly one run, and that each run's step executed once in all, its stored result the workflow's output.
 */
export async function expectOneRunPerFire(
  env: Record<string, string>,
  storage: WeftStorage,
  fires: number,
): Promise<void> {
  const weft = new Weft({ storage, scheduler: false, recovery: false });
  const children: Child[] = ['a', 'b'].map((name) =>
    spawnChild(`schedule-${name}`, 'test/fixtures/schedule-process.ts', { ...env, PROCESS_NAME: name }),
  );
  try {
    await Promise.all(children.map((child) => printed(child, 'READY')));
    await until(
      async () => (await weft.listRuns({ scheduleId: EVERY_SECOND, status: 'success' })).total >= fires,
      `${fires} scheduled runs to succeed`,
      (fires + 15) * 1000,
      200,
    );
    for (const child of children) child.child.kill('SIGTERM');
    await Promise.all(children.map((child) => child.exited));
    const { runs } = await weft.listRuns({ scheduleId: EVERY_SECOND });
    const fireTimes = runs.map((r) => Number(r.runId.slice(`sched_${EVERY_SECOND}_`.length))).sort((a, b) => a - b);
    expect(runs.every((r) => r.scheduleId === EVERY_SECOND)).toBe(true);
    expect(fireTimes.length).toBeGreaterThanOrEqual(fires);
    // One run per whole second from the first fire to the last: none twice, none missed.
    expect(fireTimes.map((t) => t - fireTimes[0]!)).toEqual(fireTimes.map((_, i) => i * 1000));
    const executed = children.flatMap((child) => [...child.output().matchAll(/^FIRED (\S+)$/gm)].map((m) => m[1]));
    const succeeded = runs.filter((r) => r.status === 'success');
    expect(succeeded.length).toBeGreaterThanOrEqual(fires);
    for (const run of succeeded) {
      expect(executed.filter((id) => id === run.runId)).toHaveLength(1);
      const view = await weft.getRun(run.runId);
      expect(view?.result).toEqual({ label: 'tick', by: expect.stringMatching(/^[ab]$/) });
    }
  } finally {
    await Promise.all(children.map(reap));
    await weft.close();
  }
}
