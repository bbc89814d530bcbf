// The `schedule` of createWorkflow is declared and refused as in Mastra 1.71 (the same declarations run on
// both), and Weft also checks inputData, initialState and requestContext against the workflow's schemas.
import { createWorkflow as mastraCreateWorkflow } from '@mastra/core/workflows';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow } from '../src/index.js';
import { parseScheduledRunId, scheduleRowId, scheduledRunId } from '../src/schedule/declaration.js';

const base = {
  id: 'report',
  inputSchema: z.object({ team: z.string() }),
  outputSchema: z.object({ team: z.string() }),
};

/** The message each engine throws for `schedule`, or null when it accepts it. */
function refusals(schedule: unknown): { weft: string | null; mastra: string | null } {
  const message = (build: () => unknown): string | null => {
    try {
      build();
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  };
  return {
    weft: message(() => createWorkflow({ ...base, schedule } as never)),
    mastra: message(() => mastraCreateWorkflow({ ...base, schedule } as never)),
  };
}

describe('schedule declarations, as in Mastra 1.71', () => {
  it.each([
    ['a 5-part cron', { cron: '0 9 * * 1-5', inputData: { team: 'a' } }],
    ['a 6-part cron (seconds first)', { cron: '*/10 * * * * *', inputData: { team: 'a' } }],
    ['a 7-part cron (with a year)', { cron: '0 0 12 * * * 2030', inputData: { team: 'a' } }],
    ['an IANA timezone', { cron: '0 9 * * *', timezone: 'America/New_York', inputData: { team: 'a' } }],
    ['one schedule with an id', { id: 'daily', cron: '0 9 * * *', inputData: { team: 'a' } }],
    [
      'an array of schedules with unique ids',
      [
        { id: 'morning', cron: '0 9 * * *', inputData: { team: 'a' } },
        { id: 'evening', cron: '0 18 * * *', inputData: { team: 'b' }, metadata: { owner: 'ops' } },
      ],
    ],
  ])('accepts %s', (_name, schedule) => {
    expect(refusals(schedule)).toEqual({ weft: null, mastra: null });
  });

  it.each([
    ['a cron that is not one', { cron: 'bad' }],
    ['a cron with a value out of range', { cron: '61 * * * *' }],
    ['a cron with eight parts', { cron: '* * * * * * * *' }],
    ['an empty cron', { cron: '' }],
    ['a cron that is not a string', { cron: 5 }],
    ['an unknown timezone', { cron: '0 9 * * *', timezone: 'Mars/Base' }],
    ['an array entry without an id', [{ cron: '0 9 * * *' }]],
    [
      'an array with a repeated id',
      [
        { id: 'a', cron: '0 9 * * *' },
        { id: 'a', cron: '0 10 * * *' },
      ],
    ],
  ])('refuses %s with Mastra’s message, naming the workflow', (_name, schedule) => {
    const { weft, mastra } = refusals(schedule);
    expect(mastra).not.toBeNull();
    expect(weft).toContain(mastra!.replace(/\.$/, ''));
    expect(weft).toContain('"report"');
  });

  it('refuses inputData the input schema rejects when the workflow is built (Mastra accepts it and fails each run)', () => {
    const { weft, mastra } = refusals({ cron: '0 9 * * *', inputData: { team: 7 } });
    expect(mastra).toBeNull();
    expect(weft).toMatch(/^Workflow "report": schedule\.inputData does not match the workflow's schema:\n- team: /);
  });

  it('refuses initialState and requestContext their schemas reject, and unknown fields or policies', () => {
    const build =
      (schedule: unknown): (() => unknown) =>
      () =>
        createWorkflow({
          ...base,
          stateSchema: z.object({ count: z.number() }),
          requestContextSchema: z.object({ tenant: z.string() }),
          schedule,
        } as never);
    const ok = {
      cron: '0 9 * * *',
      inputData: { team: 'a' },
      initialState: { count: 1 },
      requestContext: { tenant: 't' },
    };
    expect(build({ ...ok, initialState: { count: 'x' } })).toThrow(
      /schedule\.initialState does not match.*\n- count: /s,
    );
    expect(build({ ...ok, requestContext: {} })).toThrow(/schedule\.requestContext does not match.*\n- tenant: /s);
    expect(build([{ ...ok, id: 'x', cronn: '* * * * *' }])).toThrow('schedule[0] has unknown field "cronn"');
    expect(build({ ...ok, overlap: 'never' })).toThrow('schedule.overlap must be one of "allow", "skip", "queue"');
    expect(build({ ...ok, catchup: 'some' })).toThrow('schedule.catchup must be one of "none", "latest", "all"');
    expect(build({ ...ok, catchupWindowMs: -1 })).toThrow('schedule.catchupWindowMs must be a number of milliseconds');
    expect(build(ok)).not.toThrow();
    // No inputData for a schema that needs some: every run would fail, so the declaration does.
    expect(() => createWorkflow({ ...base, schedule: { cron: '0 9 * * *' } })).toThrow(
      /schedule\.inputData does not match the workflow's schema/,
    );
  });

  it('gives schedules and their runs the ids Mastra gives them', () => {
    const step = createStep({
      id: 's',
      inputSchema: base.inputSchema,
      outputSchema: base.outputSchema,
      execute: async ({ inputData }) => inputData,
    });
    const single = createWorkflow({ ...base, schedule: { cron: '0 9 * * *', inputData: { team: 'a' } } }).then(step);
    const many = createWorkflow({
      ...base,
      id: 'my_report',
      schedule: [{ id: 'daily_9', cron: '0 9 * * *', inputData: { team: 'a' } }],
    }).then(step);
    expect(single.schedules.map((s) => s.scheduleId)).toEqual(['wf_report']);
    expect(many.schedules.map((s) => s.scheduleId)).toEqual(['wf_my%5Freport__daily%5F9']);
    expect(scheduledRunId('wf_report', 1_700_000_000_000)).toBe('sched_wf_report_1700000000000');
    expect(parseScheduledRunId(scheduledRunId(scheduleRowId('my_report', 'daily_9'), 5))).toEqual({
      scheduleId: 'wf_my%5Freport__daily%5F9',
      fireAt: 5,
    });
    expect(parseScheduledRunId('3f1c-uuid')).toBeNull();
  });
});
