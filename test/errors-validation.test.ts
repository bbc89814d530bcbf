// Errors and validation: step failures and their serialisation (ER1-ER4), schemas (SV1-SV4), the WeftError family.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow, MemoryStorage, Weft, WeftError } from '../src/index.js';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import { failingStep, numSchema, numStep, numWorkflow } from './support/step-factories.js';

class HttpError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly responseHeaders: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

const nestedSchema = z.object({ nested: z.object({ value: z.number() }), name: z.string().default('anon') });

describe('ER1-ER3 failed steps and serialised errors', () => {
  it('ER1 a failed step has status failed, payload, timestamps and an error; the run fails with the same message', async () => {
    const wf = numWorkflow('er1')
      .then(numStep('a'))
      .then(failingStep('boom', () => new Error('kaboom')))
      .then(numStep('never'))
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.steps.boom).toMatchObject({ status: 'failed', payload: { n: 2 } });
    expect(result.steps.boom.endedAt).toBeGreaterThanOrEqual(result.steps.boom.startedAt);
    expect((result.steps.boom.error as { message: string }).message).toBe('kaboom');
    expect(result.error).toMatchObject({ name: 'Error', message: 'kaboom' });
    expect(result.steps.never).toBeUndefined();
    expect('result' in result).toBe(false);
  });

  it('ER2 custom fields and a two-level cause chain are kept on the step error and the run error', async () => {
    const makeError = () =>
      new HttpError(
        'upstream failed',
        503,
        { 'retry-after': '5' },
        {
          cause: Object.assign(new Error('socket closed', { cause: new Error('ECONNRESET') }), { code: 'E_SOCKET' }),
        },
      );
    const wf = numWorkflow('er2').then(failingStep('call', makeError)).commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    const expected = {
      name: 'HttpError',
      message: 'upstream failed',
      statusCode: 503,
      responseHeaders: { 'retry-after': '5' },
      cause: {
        name: 'Error',
        message: 'socket closed',
        code: 'E_SOCKET',
        cause: { name: 'Error', message: 'ECONNRESET' },
      },
    };
    expect(result.error).toMatchObject(expected);
    expect(result.steps.call.error).toMatchObject(expected);
    expect(JSON.stringify(result.error)).not.toContain('"stack"');
  });

  it('ER2 a failed step error is an Error instance in the live result as in the stored run; the run error stays plain', async () => {
    const wf = numWorkflow('er2i')
      .then(failingStep('call', () => new HttpError('upstream failed', 503, {}, { cause: new Error('ECONNRESET') })))
      .commit();
    const run = await wf.createRun();
    const result = await run.start({ inputData: { n: 1 } });
    const live = result.steps.call.error as HttpError;
    expect(live).toBeInstanceOf(Error);
    expect(live).toMatchObject({ name: 'HttpError', message: 'upstream failed', statusCode: 503 });
    expect((live.cause as Error).message).toBe('ECONNRESET');
    expect(result.error).not.toBeInstanceOf(Error);
    const stored = (await wf.getWorkflowRunById(run.runId))?.steps.call?.error;
    expect(stored).toBeInstanceOf(Error);
    expect(stored).toMatchObject({ name: 'HttpError', message: 'upstream failed', statusCode: 503 });
  });

  it('ER2 a thrown string becomes { name: Error, message }', async () => {
    const wf = numWorkflow('er2s')
      .then(failingStep('s', () => 'a plain string'))
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(result.error).toEqual({ name: 'Error', message: 'a plain string' });
  });

  it('ER3 the stored run gives back the error with name, message and custom fields but no stack', async () => {
    const weft = new Weft({ storage: new MemoryStorage() });
    const wf = numWorkflow('er3')
      .then(failingStep('boom', () => Object.assign(new Error('stored failure'), { code: 'E42', isRetryable: false })))
      .commit();
    weft.addWorkflow(wf);
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const view = await wf.getWorkflowRunById(run.runId);
    expect(view?.status).toBe('failed');
    expect(view?.error).toEqual({ name: 'Error', message: 'stored failure', code: 'E42', isRetryable: false });
    const stepError = view?.steps.boom?.error as Record<string, unknown>;
    expect(stepError).toMatchObject({ message: 'stored failure', code: 'E42' });
    expect(JSON.stringify(view?.error)).not.toContain('stack');
    expect(stepError.stack).toBeUndefined();
  });
});

describe('SV1-SV4 schema validation', () => {
  const wf = () =>
    createWorkflow({ id: 'sv', inputSchema: nestedSchema, outputSchema: z.any() })
      .then(
        createStep({
          id: 'echo',
          inputSchema: nestedSchema,
          outputSchema: z.any(),
          execute: async ({ inputData }) => inputData,
        }),
      )
      .commit();

  it('SV1 bad workflow input makes start throw INVALID_INPUT with one line per path and the issues', async () => {
    const run = await wf().createRun({ runId: 'sv1' });
    const error = await run.start({ inputData: { nested: { value: 'x' } } as any }).catch((e: unknown) => e);
    expect(WeftError.is(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toBe('Invalid input data: \n- nested.value: Expected number, received string');
    expect((error as WeftError).runId).toBe('sv1');
    expect((error as WeftError).workflowId).toBe('sv');
    expect((error as WeftError).issues).toEqual([
      { path: 'nested.value', message: 'Expected number, received string' },
    ]);
  });

  it('SV1 missing input reports the root path; the run stays startable', async () => {
    const run = await wf().createRun();
    await expect(run.start({})).rejects.toThrow('Invalid input data: \n- : Required');
    expect((await run.start({ inputData: { nested: { value: 1 }, name: 'x' } })).status).toBe('success');
  });

  it('SV2 defaults in the workflow inputSchema are applied (step payload and result)', async () => {
    // Start is typed with the schema's output type, so a field with a default must be cast away.
    const result = await (
      await wf().createRun()
    ).start({ inputData: { nested: { value: 1 } } as z.infer<typeof nestedSchema> });
    expect(result.input).toEqual({ nested: { value: 1 }, name: 'anon' });
    expect(result.steps.echo.payload).toEqual({ nested: { value: 1 }, name: 'anon' });
    expect(result.result).toEqual({ nested: { value: 1 }, name: 'anon' });
  });

  it('SV4 a step whose inputSchema rejects the previous output fails the run with STEP_INPUT_INVALID naming the step', async () => {
    const text = createStep({
      id: 'text',
      inputSchema: z.object({ s: z.string() }),
      outputSchema: z.any(),
      execute: async () => 1,
    });
    const run = await numWorkflow('sv4').then(numStep('a')).then(text).commit().createRun({ runId: 'sv4run' });
    const result = await run.start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.steps.text.status).toBe('failed');
    expect(result.error).toMatchObject({
      name: 'WeftError',
      code: 'STEP_INPUT_INVALID',
      stepId: 'text',
      runId: 'sv4run',
      message: 'Step input validation failed: \n- s: Required',
    });
  });

  it('SV4 a .map() after .foreach() has its value checked by the next step', async () => {
    const wf2 = numWorkflow('sv4f')
      .map(async () => [{ n: 1 }, { n: 2 }])
      .foreach(numStep('each'))
      .map(async ({ inputData }) => ({ n: String(inputData.length) }))
      .then(numStep('after'))
      .commit();
    const result = await (await wf2.createRun()).start({ inputData: { n: 0 } });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('- n: Expected number, received string');
  });
});

describe('output schemas (Weft differs: they are validated)', () => {
  it('a step output that breaks its outputSchema fails the step with STEP_OUTPUT_INVALID', async () => {
    const liar = createStep({
      id: 'liar',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async () => ({ n: 'not a number' }) as unknown as { n: number },
    });
    const result = await (
      await numWorkflow('out').then(liar).then(numStep('never')).commit().createRun()
    ).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.steps.liar.status).toBe('failed');
    expect(result.steps.never).toBeUndefined();
    expect(result.error).toMatchObject({ code: 'STEP_OUTPUT_INVALID', stepId: 'liar' });
    expect(result.error?.message).toBe(
      "Step output validation failed for step 'liar': \n- n: Expected number, received string",
    );
  });

  it('a valid output is parsed by the schema: unknown keys are stripped and defaults applied', async () => {
    const extra = createStep({
      id: 'extra',
      inputSchema: numSchema,
      outputSchema: z.object({ n: z.number(), tag: z.string().default('t') }),
      execute: async ({ inputData }) => ({ n: inputData.n, junk: true }) as any,
    });
    const result = await (await numWorkflow('outok').then(extra).commit().createRun()).start({ inputData: { n: 1 } });
    expect(result.result).toEqual({ n: 1, tag: 't' });
  });

  it('a final result that breaks the workflow outputSchema fails the run', async () => {
    const wf = createWorkflow({ id: 'wfout', inputSchema: numSchema, outputSchema: z.object({ s: z.string() }) })
      .then(numStep('a'))
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe("Workflow output validation failed for workflow 'wfout': \n- s: Required");
  });
});

describe('other validation failures', () => {
  it('a bad workflow requestContext makes start throw INVALID_REQUEST_CONTEXT naming the workflow', async () => {
    const wf = numWorkflow('rcwf', { requestContextSchema: z.object({ tenant: z.string() }) })
      .then(numStep('a'))
      .commit();
    const error = await (await wf.createRun()).start({ inputData: { n: 1 } }).catch((e: unknown) => e);
    expect(WeftError.is(error, 'INVALID_REQUEST_CONTEXT')).toBe(true);
    expect((error as Error).message).toBe(
      "Request context validation failed for workflow 'rcwf': \n- tenant: Required",
    );
  });

  it('a bad step requestContext fails the run with STEP_REQUEST_CONTEXT_INVALID naming the step', async () => {
    const step = createStep({
      id: 'rcStep',
      inputSchema: numSchema,
      outputSchema: numSchema,
      requestContextSchema: z.object({ tenant: z.string() }),
      execute: async ({ inputData }) => inputData,
    });
    const result = await (await numWorkflow('rcs').then(step).commit().createRun()).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({
      code: 'STEP_REQUEST_CONTEXT_INVALID',
      message: "Step request context validation failed for step 'rcStep': \n- tenant: Required",
    });
  });

  it('a suspend payload that breaks suspendSchema fails the run with STEP_SUSPEND_DATA_INVALID', async () => {
    const step = createStep({
      id: 'sus',
      inputSchema: numSchema,
      outputSchema: numSchema,
      suspendSchema: z.object({ reason: z.string() }),
      execute: async ({ inputData, suspend }) => {
        await suspend({ reason: 5 as unknown as string });
        return inputData;
      },
    });
    const result = await (await numWorkflow('suss').then(step).commit().createRun()).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe(
      'Step suspend data validation failed: \n- reason: Expected string, received number',
    );
  });
});

describe('the WeftError family', () => {
  it('carries a code, structured fields and a cause; WeftError.is works on codes', () => {
    const cause = new Error('root');
    const e = new WeftError('RUN_NOT_FOUND', 'Cannot resume run "r1": no such run in storage', { runId: 'r1', cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('WeftError');
    expect(e.code).toBe('RUN_NOT_FOUND');
    expect(e.runId).toBe('r1');
    expect(e.cause).toBe(cause);
    expect(WeftError.is(e)).toBe(true);
    expect(WeftError.is(e, 'RUN_NOT_FOUND')).toBe(true);
    expect(WeftError.is(e, 'RUN_NOT_ACTIVE')).toBe(false);
    expect(WeftError.is(new Error('x'))).toBe(false);
    expect(WeftError.is(null)).toBe(false);
  });

  it('a second start of a finished run is refused with RUN_ALREADY_CLAIMED and the stored result is unchanged (Weft differs)', async () => {
    const wf = numWorkflow('twice').then(numStep('a')).commit();
    const run = await wf.createRun({ runId: 'twice-run' });
    const first = await run.start({ inputData: { n: 1 } });
    const error = await run.start({ inputData: { n: 50 } }).catch((e: unknown) => e);
    expect(WeftError.is(error, 'RUN_ALREADY_CLAIMED')).toBe(true);
    expect((error as Error).message).toContain('"twice-run"');
    expect((error as Error).message).toContain('"success"');
    expect((await wf.getWorkflowRunById('twice-run'))?.result).toEqual(first.result);
  });

  it('a second start of a finished run says a run starts only once, not that another caller claimed it', async () => {
    const wf = numWorkflow('twice-msg').then(numStep('a')).commit();
    const run = await wf.createRun({ runId: 'twice-msg-run' });
    await run.start({ inputData: { n: 1 } });
    const error = await run.start({ inputData: { n: 1 } }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'Cannot start run "twice-msg-run": its status is "success", expected "pending"; a run starts only once: create a new run, or time travel to run it again',
    );
  });

  it('restart of a never-started run is refused with RUN_NOT_ACTIVE naming the run and its status', async () => {
    const wf = numWorkflow('rs').then(numStep('a')).commit();
    const run = await wf.createRun({ runId: 'rs-run' });
    const error = await run.restart().catch((e: unknown) => e);
    expect(WeftError.is(error, 'RUN_NOT_ACTIVE')).toBe(true);
    expect(error).toMatchObject({ runId: 'rs-run', actualStatus: 'pending' });
    expect((error as Error).message).toBe(
      'Cannot restart run "rs-run": its status is "pending", expected "running" or "waiting" (This workflow run was not active)',
    );
  });

  it('getWorkflow of an unknown id names it and the registered ones', () => {
    const wf = numWorkflow('known').then(numStep('a')).commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    expect(() => weft.getWorkflow('nope')).toThrow('Workflow "nope" is not registered; registered: "known"');
  });

  it('a run id that belongs to another workflow is refused with WORKFLOW_MISMATCH', async () => {
    const a = numWorkflow('wa').then(numStep('a')).commit();
    const b = numWorkflow('wb').then(numStep('a')).commit();
    new Weft({ workflows: { a, b }, storage: new MemoryStorage() });
    await a.createRun({ runId: 'shared' });
    const error = await b.createRun({ runId: 'shared' }).catch((e: unknown) => e);
    expect(WeftError.is(error, 'WORKFLOW_MISMATCH')).toBe(true);
  });

  it('a run id of another workflow is refused with WORKFLOW_MISMATCH while that run executes', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = createStep({
      id: 'slow',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData }) => {
        await gate;
        return inputData;
      },
    });
    const a = numWorkflow('wa-live').then(slow).commit();
    const b = numWorkflow('wb-live').then(numStep('a')).commit();
    const weft = new Weft({ workflows: { a, b }, storage: new MemoryStorage() });
    const run = await a.createRun({ runId: 'shared-live' });
    const started = run.start({ inputData: { n: 1 } });
    await new Promise((r) => setTimeout(r, 10));
    const error = await b.createRun({ runId: 'shared-live' }).catch((e: unknown) => e);
    release();
    await started;
    expect(WeftError.is(error, 'WORKFLOW_MISMATCH')).toBe(true);
    await weft.close();
  });
});

describe('engine options', () => {
  it('refuses a leaseMs below 100 ms or not a number, naming the value', () => {
    for (const leaseMs of [50, 0, Number.NaN]) {
      expect(() => new Weft({ leaseMs })).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: `Invalid leaseMs ${String(leaseMs)}: expected a number of milliseconds, at least 100`,
        }),
      );
    }
  });

  it('refuses a negative reconnectWindowMs for PostgresStorage', () => {
    expect(() => new PostgresStorage({ connectionString: 'postgres://nowhere/db', reconnectWindowMs: -1 })).toThrow(
      'Invalid reconnectWindowMs -1: expected milliseconds, 0 or more',
    );
  });
});
