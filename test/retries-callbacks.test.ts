// Retries (RT1-RT5), non-retryable errors, perStep (S16-S17) and the callbacks onStart/onFinish/onError (S13, CB1-CB3).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, NonRetryableError, Weft, type CallbackInfo, MemoryStorage } from '../src/index.js';
import { failingStep, numSchema, numStep, numWorkflow, recordingLogger } from './support/step-factories.js';

describe('RT1-RT4 retries', () => {
  it('RT1 a failing step is called once by default', async () => {
    const calls = { count: 0 };
    const wf = numWorkflow('rt1')
      .then(failingStep('boom', () => new Error('nope'), calls))
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(calls.count).toBe(1);
  });

  it('RT2 retryConfig {attempts: n, delay} calls the step n+1 times, waiting between attempts, then fails', async () => {
    const calls = { count: 0 };
    const wf = numWorkflow('rt2', { retryConfig: { attempts: 2, delay: 20 } })
      .then(failingStep('boom', () => new Error('still failing'), calls))
      .commit();
    const t0 = Date.now();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(calls.count).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(38);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('still failing');
  });

  it('RT2 a step that succeeds on a retry makes the run succeed', async () => {
    let calls = 0;
    const flaky = createStep({
      id: 'flaky',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData, retryCount }) => {
        calls++;
        if (retryCount < 2) throw new Error('transient');
        return { n: inputData.n + retryCount };
      },
    });
    const result = await (
      await numWorkflow('rt2ok', { retryConfig: { attempts: 5 } })
        .then(flaky)
        .commit()
        .createRun()
    ).start({
      inputData: { n: 1 },
    });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 3 });
    expect(calls).toBe(3);
  });

  it('RT3 a step-level retries overrides the workflow retryConfig.attempts', async () => {
    const calls = { count: 0 };
    const wf = numWorkflow('rt3', { retryConfig: { attempts: 4 } })
      .then(failingStep('boom', () => new Error('x'), calls, 1))
      .commit();
    await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(calls.count).toBe(2);
    const zero = { count: 0 };
    const wf0 = numWorkflow('rt3zero', { retryConfig: { attempts: 4 } })
      .then(failingStep('boom', () => new Error('x'), zero, 0))
      .commit();
    await (await wf0.createRun()).start({ inputData: { n: 1 } });
    expect(zero.count).toBe(1);
  });

  it('RT4 a NonRetryableError is never retried and marks the step nonRetryable', async () => {
    const calls = { count: 0 };
    const wf = numWorkflow('rt4', { retryConfig: { attempts: 5 } })
      .then(failingStep('boom', () => new NonRetryableError('card declined'), calls, 3))
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(calls.count).toBe(1);
    expect(result.status).toBe('failed');
    expect(result.steps.boom).toMatchObject({ status: 'failed', nonRetryable: true });
    expect(result.error).toMatchObject({ name: 'NonRetryableError', message: 'card declined' });
  });

  it('RT4 a NonRetryableError inside a nested workflow is not retried; transient ones there are', async () => {
    const nonRetry = { count: 0 };
    const transient = { count: 0 };
    const inner1 = numWorkflow('inner1', { retryConfig: { attempts: 2 } })
      .then(failingStep('hard', () => new NonRetryableError('hard'), nonRetry))
      .commit();
    const inner2 = numWorkflow('inner2', { retryConfig: { attempts: 2 } })
      .then(failingStep('soft', () => new Error('soft'), transient))
      .commit();
    await (await numWorkflow('rt4n1').then(inner1).commit().createRun()).start({ inputData: { n: 1 } });
    await (await numWorkflow('rt4n2').then(inner2).commit().createRun()).start({ inputData: { n: 1 } });
    expect(nonRetry.count).toBe(1);
    expect(transient.count).toBe(3);
  });

  it('RT4 any error with nonRetryable: true is treated as non-retryable', async () => {
    const calls = { count: 0 };
    const wf = numWorkflow('rt4flag', { retryConfig: { attempts: 3 } })
      .then(failingStep('boom', () => Object.assign(new Error('flagged'), { nonRetryable: true }), calls))
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(calls.count).toBe(1);
    expect(result.steps.boom.nonRetryable).toBe(true);
  });
});

describe('S16-S17 perStep', () => {
  it('S16 perStep: true runs the first step only and returns paused without result', async () => {
    const wf = numWorkflow('s16').then(numStep('a')).then(numStep('b')).then(numStep('c')).commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const result = await run.start({ inputData: { n: 1 }, perStep: true });
    expect(result.status).toBe('paused');
    expect(result.steps.a.status).toBe('success');
    expect(result.steps.b).toBeUndefined();
    expect(result.steps.c).toBeUndefined();
    expect('result' in result).toBe(false);
    expect((await weft.getRun(run.runId))?.status).toBe('paused');
  });

  it('S17 perStep with .parallel([A, B]).then(C) runs only A', async () => {
    const wf = numWorkflow('s17p')
      .parallel([numStep('A'), numStep('B')])
      .then(numStep('C'))
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 }, perStep: true });
    expect(result.status).toBe('paused');
    expect(result.steps.A?.status).toBe('success');
    expect(result.steps.B).toBeUndefined();
    expect(result.steps.C).toBeUndefined();
  });

  it('S17 perStep with .then(check).branch(...) runs only the check', async () => {
    const wf = numWorkflow('s17b')
      .then(numStep('check'))
      .branch([[async () => true, numStep('yes')]])
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 }, perStep: true });
    expect(result.status).toBe('paused');
    expect(Object.keys(result.steps).sort()).toEqual(['check', 'input']);
  });

  it('S17 perStep with a nested workflow runs only the step before it', async () => {
    const inner = numWorkflow('inner').then(numStep('i1')).then(numStep('i2')).commit();
    const wf = numWorkflow('s17n').then(numStep('before')).then(inner).commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 }, perStep: true });
    expect(result.status).toBe('paused');
    expect(result.steps.before.status).toBe('success');
    expect(result.steps.inner).toBeUndefined();
  });

  it('S17 a nested workflow that pauses under perStep makes the parent step and the run paused', async () => {
    const inner = numWorkflow('inner').then(numStep('i1')).then(numStep('i2')).commit();
    const wf = numWorkflow('s17np').then(inner).then(numStep('after')).commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 }, perStep: true });
    expect(result.status).toBe('paused');
    expect(result.steps.inner.status).toBe('paused');
    expect(result.steps.after).toBeUndefined();
  });

  it('E6 perStep streaming ends with workflow-paused then workflow-finish with workflowStatus paused', async () => {
    const wf = numWorkflow('e6').then(numStep('a')).then(numStep('b')).commit();
    const output = (await wf.createRun()).stream({ inputData: { n: 1 }, perStep: true });
    const types: string[] = [];
    let finish: unknown;
    for await (const e of output.fullStream) {
      types.push(e.type);
      if (e.type === 'workflow-finish') finish = e.payload;
    }
    expect(types).toEqual([
      'workflow-start',
      'workflow-step-start',
      'workflow-step-result',
      'workflow-paused',
      'workflow-finish',
    ]);
    expect(finish).toMatchObject({ workflowStatus: 'paused' });
    expect((await output.result).status).toBe('paused');
  });
});

describe('S13 onStart', () => {
  it('S13 runs before the first step with runId, workflowId, getInitData and requestContext', async () => {
    const order: string[] = [];
    const seen: Partial<CallbackInfo>[] = [];
    const wf = numWorkflow('s13', {
      options: {
        onStart: (info) => {
          order.push('onStart');
          seen.push({ runId: info.runId, workflowId: info.workflowId, result: info.getInitData() });
          expect(info.requestContext.get('who')).toBe('me');
          expect(typeof info.logger.info).toBe('function');
        },
      },
    })
      .then(
        createStep({
          id: 'a',
          inputSchema: numSchema,
          outputSchema: numSchema,
          execute: async ({ inputData }) => {
            order.push('a');
            return inputData;
          },
        }),
      )
      .commit();
    const run = await wf.createRun({ runId: 'r13' });
    await run.start({ inputData: { n: 4 }, requestContext: { who: 'me' } });
    expect(order).toEqual(['onStart', 'a']);
    expect(seen).toEqual([{ runId: 'r13', workflowId: 's13', result: { n: 4 } }]);
  });

  it('S13 when onStart throws, start rejects with that error, no step runs and the run stays pending and startable', async () => {
    let fail = true;
    const calls = { count: 0 };
    const wf = numWorkflow('s13t', {
      options: {
        onStart: () => {
          if (fail) throw new Error('not today');
        },
      },
    })
      .then(
        createStep({
          id: 'a',
          inputSchema: numSchema,
          outputSchema: numSchema,
          execute: async ({ inputData }) => {
            calls.count++;
            return inputData;
          },
        }),
      )
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    await expect(run.start({ inputData: { n: 1 } })).rejects.toThrow('not today');
    expect(calls.count).toBe(0);
    expect((await weft.getRun(run.runId))?.status).toBe('pending');
    fail = false;
    expect((await run.start({ inputData: { n: 1 } })).status).toBe('success');
  });
});

describe('CB1-CB3 onFinish and onError', () => {
  const tracked = (kind: 'ok' | 'fail' | 'suspend') => {
    const calls: { name: string; info: CallbackInfo }[] = [];
    const step = createStep({
      id: 'work',
      inputSchema: numSchema,
      outputSchema: numSchema,
      stateSchema: z.object({ seen: z.boolean() }).partial(),
      execute: async ({ inputData, suspend, setState }) => {
        await setState({ seen: true });
        if (kind === 'fail') throw Object.assign(new Error('work failed'), { code: 'E42' });
        if (kind === 'suspend') await suspend({ why: 'wait' });
        return { n: inputData.n + 1 };
      },
    });
    const wf = numWorkflow(`cb-${kind}`, {
      options: {
        onFinish: async (info) => {
          await new Promise((r) => setTimeout(r, 5));
          calls.push({ name: 'onFinish', info });
        },
        onError: async (info) => {
          calls.push({ name: 'onError', info });
        },
      },
    })
      .then(step)
      .commit();
    return { wf, calls };
  };

  it('CB1 onFinish runs once for success (awaited), onError does not', async () => {
    const { wf, calls } = tracked('ok');
    await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(calls.map((c) => c.name)).toEqual(['onFinish']);
    expect(calls[0]!.info).toMatchObject({ status: 'success', result: { n: 2 } });
  });

  it('CB1 on failure both onFinish and onError run with the serialized error', async () => {
    const { wf, calls } = tracked('fail');
    await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(calls.map((c) => c.name)).toEqual(['onFinish', 'onError']);
    for (const c of calls)
      expect(c.info).toMatchObject({ status: 'failed', error: { name: 'Error', message: 'work failed', code: 'E42' } });
  });

  it('CB1 onFinish runs for a suspended run; onError does not', async () => {
    const { wf, calls } = tracked('suspend');
    await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(calls.map((c) => c.name)).toEqual(['onFinish']);
    expect(calls[0]!.info.status).toBe('suspended');
  });

  it('CB2 the callback argument carries runId, workflowId, resourceId, state, steps, getInitData, requestContext, logger and the instance', async () => {
    const { wf, calls } = tracked('ok');
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun({ runId: 'cb2', resourceId: 'res-1' });
    await run.start({ inputData: { n: 1 }, initialState: {}, requestContext: { tenant: 't' } });
    const info = calls[0]!.info;
    expect(info).toMatchObject({ runId: 'cb2', workflowId: 'cb-ok', resourceId: 'res-1', state: { seen: true } });
    expect(info.steps.work?.status).toBe('success');
    expect(info.getInitData()).toEqual({ n: 1 });
    expect(info.requestContext.get('tenant')).toBe('t');
    expect(typeof info.logger.error).toBe('function');
    expect(info.mastra).toBe(weft);
    expect(info.weft).toBe(weft);
    expect(info.stepExecutionPath).toEqual(['work']);
  });

  it('CB3 errors thrown inside onFinish and onError are logged and do not change the result', async () => {
    const logger = recordingLogger();
    const wf = numWorkflow('cb3', {
      options: {
        onFinish: () => {
          throw new Error('finish hook broke');
        },
        onError: async () => {
          throw new Error('error hook broke');
        },
      },
    })
      .then(failingStep('boom', () => new Error('step broke')))
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage(), logger });
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('step broke');
    const errors = logger.lines.filter((l) => l.level === 'error').map((l) => l.message);
    expect(errors.some((m) => m.includes('onFinish'))).toBe(true);
    expect(errors.some((m) => m.includes('onError'))).toBe(true);

    const okWf = numWorkflow('cb3ok', {
      options: {
        onFinish: () => {
          throw new Error('finish hook broke');
        },
      },
    })
      .then(numStep('a'))
      .commit();
    new Weft({ workflows: { okWf }, storage: new MemoryStorage(), logger });
    const ok = await (await okWf.createRun()).start({ inputData: { n: 1 } });
    expect(ok).toMatchObject({ status: 'success', result: { n: 2 } });
  });
});
