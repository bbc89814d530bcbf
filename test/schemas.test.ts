// Standard Schema: the same workflow shapes defined with zod and with valibot, validation and defaults included.
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow, WeftError } from '../src/index.js';

describe('zod schemas', () => {
  const input = z.object({ nested: z.object({ value: z.number() }), unit: z.string().default('kg') });
  const output = z.object({ total: z.number(), unit: z.string() });
  const make = () =>
    createWorkflow({
      id: 'zod-wf',
      inputSchema: input,
      outputSchema: output,
      stateSchema: z.object({ seen: z.number().default(0) }),
    })
      .then(
        createStep({
          id: 'double',
          inputSchema: input,
          outputSchema: output,
          stateSchema: z.object({ seen: z.number() }),
          execute: async ({ inputData, state, setState }) => {
            await setState({ seen: state.seen + 1 });
            return { total: inputData.nested.value * 2, unit: inputData.unit };
          },
        }),
      )
      .commit();

  it('validates input, applies defaults, validates state and output', async () => {
    const result = await (
      await make().createRun()
    ).start({
      inputData: { nested: { value: 21 } } as z.infer<typeof input>,
      outputOptions: { includeState: true },
    });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ total: 42, unit: 'kg' });
    expect(result.state).toEqual({ seen: 1 });
  });

  it('reports zod issues with their dotted paths', async () => {
    const error = await (
      await make().createRun()
    )
      .start({ inputData: { nested: { value: 'x' } } as any })
      .catch((e: unknown) => e);
    expect(WeftError.is(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toBe('Invalid input data: \n- nested.value: Expected number, received string');
  });
});

describe('valibot schemas', () => {
  const input = v.object({ nested: v.object({ value: v.number() }), unit: v.optional(v.string(), 'kg') });
  const output = v.object({ total: v.number(), unit: v.string() });
  const make = () =>
    createWorkflow({
      id: 'valibot-wf',
      inputSchema: input,
      outputSchema: output,
      stateSchema: v.object({ seen: v.optional(v.number(), 0) }),
    })
      .then(
        createStep({
          id: 'double',
          inputSchema: input,
          outputSchema: output,
          stateSchema: v.object({ seen: v.number() }),
          execute: async ({ inputData, state, setState }) => {
            await setState({ seen: state.seen + 1 });
            return { total: inputData.nested.value * 2, unit: inputData.unit };
          },
        }),
      )
      .commit();

  it('validates input, applies defaults, validates state and output', async () => {
    const result = await (
      await make().createRun()
    ).start({
      inputData: { nested: { value: 21 } } as v.InferOutput<typeof input>,
      outputOptions: { includeState: true },
    });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ total: 42, unit: 'kg' });
    expect(result.state).toEqual({ seen: 1 });
  });

  it('reports valibot issues with their dotted paths', async () => {
    const error = await (
      await make().createRun()
    )
      .start({ inputData: { nested: { value: 'x' } } as any })
      .catch((e: unknown) => e);
    expect(WeftError.is(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toMatch(/^Invalid input data: \n- nested\.value: .*number/);
    expect((error as WeftError).issues?.[0]?.path).toBe('nested.value');
  });

  it('fails a step whose output breaks a valibot outputSchema', async () => {
    const liar = createStep({
      id: 'liar',
      inputSchema: v.object({ n: v.number() }),
      outputSchema: v.object({ n: v.number() }),
      execute: async () => ({ n: 'text' }) as unknown as { n: number },
    });
    const wf = createWorkflow({ id: 'vliar', inputSchema: v.object({ n: v.number() }), outputSchema: v.any() })
      .then(liar)
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'STEP_OUTPUT_INVALID', stepId: 'liar' });
    expect(result.error?.message).toMatch(/^Step output validation failed for step 'liar': \n- n: /);
  });
});

describe('zod and valibot together', () => {
  it('chains a zod step into a valibot step in one workflow, with a valibot resume schema', async () => {
    const zodStep = createStep({
      id: 'zodStep',
      inputSchema: z.object({ n: z.number() }),
      outputSchema: z.object({ label: z.string() }),
      execute: async ({ inputData }) => ({ label: `n=${inputData.n}` }),
    });
    const valibotStep = createStep({
      id: 'valibotStep',
      inputSchema: v.object({ label: v.string() }),
      outputSchema: v.object({ out: v.string() }),
      resumeSchema: v.object({ ok: v.optional(v.boolean(), true) }),
      execute: async ({ inputData, resumeData, suspend }) => {
        if (!resumeData) {
          await suspend();
          return { out: '' };
        }
        return { out: `${inputData.label} ok=${resumeData.ok}` };
      },
    });
    const wf = createWorkflow({
      id: 'mixed',
      inputSchema: z.object({ n: z.number() }),
      outputSchema: v.object({ out: v.string() }),
    })
      .then(zodStep)
      .then(valibotStep)
      .commit();
    const run = await wf.createRun();
    expect((await run.start({ inputData: { n: 3 } })).status).toBe('suspended');
    const done = await run.resume({ resumeData: {} });
    expect(done.result).toEqual({ out: 'n=3 ok=true' });
  });
});
