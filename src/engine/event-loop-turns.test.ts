import { describe, expect, it } from 'vitest';
import { eventLoopTurn } from './event-loop-turns.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `eventLoopTurn` while keeping the thread busy, until it asks for a turn; gives the turn and how long that took. */
function busyUntilTurn(): { turn: Promise<void>; busyMs: number } {
  const began = performance.now();
  for (;;) {
    const turn = eventLoopTurn();
    if (turn) return { turn, busyMs: performance.now() - began };
    const step = performance.now();
    while (performance.now() - step < 0.05) {
      // a step's synchronous work
    }
  }
}

describe('eventLoopTurn', () => {
  it('asks for a turn once a stretch of continuous execution used up its slice (4 ms)', async () => {
    await pause(5);
    const { turn, busyMs } = busyUntilTurn();
    expect(busyMs).toBeGreaterThanOrEqual(4);
    await turn;
  });

  it('lets a burst that follows an idle gap go on: its slice starts with it, not at the last turn given', async () => {
    await busyUntilTurn().turn;
    for (const gapMs of [20, 20]) {
      await pause(gapMs);
      // Calls that do nothing, a few microseconds in all: none should wait (unless this process was
      // descheduled for a whole slice meanwhile, which a loaded machine can do).
      const began = performance.now();
      const turns = Array.from({ length: 100 }, () => eventLoopTurn());
      const tookMs = performance.now() - began;
      if (tookMs < 4) expect(turns.filter(Boolean)).toHaveLength(0);
      await Promise.all(turns);
    }
  });
});
