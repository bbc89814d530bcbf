// The plans of the verbs and the one pipeline that claims, executes and records them, on a real memory store.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WeftError } from '../errors.js';
import { DeferredEntry } from '../journal/encoding.js';
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import { createStep } from '../workflow/create-step.js';
import { createWorkflow, type Workflow } from '../workflow/create-workflow.js';
import { cancelRun } from './cancel-run.js';
import { runPlan, type PlanOwner } from './pipeline.js';
import { planResume, planStart, planTakeover, planTimeTravel } from './plans.js';
import type { RunServices } from './run-services.js';
import { storeRun } from './store-run.js';
import { Weft, runServicesOf } from './weft.js';

const engines: Weft[] = [];
afterEach(async () => {
  for (const weft of engines.splice(0)) await weft.close();
});

/** Two steps: `add` adds one, `approve` suspends until resumed with `{ ok }`. */
function approvalWorkflow(): Workflow {
  const add = createStep({
    id: 'add',
    inputSchema: z.object({ n: z.number() }),
    outputSchema: z.object({ n: z.number() }),
    execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
  });
  const approve = createStep({
    id: 'approve',
    inputSchema: z.object({ n: z.number() }),
    outputSchema: z.object({ n: z.number() }),
    resumeSchema: z.object({ ok: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return suspend({ asked: true });
      return { n: resumeData.ok ? inputData.n : -1 };
    },
  });
  return createWorkflow({ id: 'approval', inputSchema: z.object({ n: z.number() }), outputSchema: z.any() })
    .then(add)
    .then(approve)
    .commit();
}

async function setUp(): Promise<{ services: RunServices; workflow: Workflow; owner: PlanOwner; weft: Weft }> {
  const workflow = approvalWorkflow();
  const weft = new Weft({ workflows: { approval: workflow }, storage: new MemoryStorage(), recovery: false });
  engines.push(weft);
  await weft.init();
  const services = runServicesOf(weft);
  const row = await storeRun(services, workflow, 'r1', undefined);
  return { services, workflow, weft, owner: { runId: row.runId, workflowId: workflow.id, resourceId: undefined } };
}

/** Leaves run r1 as an owner elsewhere left it: claimed at epoch 1, started, step `add` (key 0) begun and not ended. */
async function leftRunning(services: RunServices, leaseExpiresAt: number): Promise<void> {
  await services.storage.updateRun(
    'r1',
    { status: ['pending'] },
    { status: 'running', bumpEpoch: true, leaseOwner: 'elsewhere', leaseExpiresAt, updatedAt: 1 },
    [
      new DeferredEntry(1, 'run-start', { input: { n: 1 }, state: {}, requestContext: {}, resourceId: null }, 1),
      new DeferredEntry(2, 'step-start', { key: '0', id: 'add', payload: { n: 1 }, startedAt: 1 }, 1),
    ],
  );
}

async function entryTypes(services: RunServices, runId: string): Promise<string[]> {
  return (await services.storage.readJournal(runId)).map((e) => e.type);
}

describe('plans', () => {
  it('a start plan claims a pending run and opens the journal with run-start', async () => {
    const { services, workflow, owner } = await setUp();
    const plan = await planStart(services, workflow, owner, { inputData: { n: 1 } });
    expect(plan?.claim).toMatchObject({ verb: 'start', from: ['pending'], input: '{"n":1}' });
    expect(typeof plan?.begin).toBe('object');
    expect(plan && typeof plan.begin === 'object' && plan.begin.opening[0]).toBe('run-start');
  });

  it('a start plan refuses bad input before anything is stored', async () => {
    const { services, workflow, owner } = await setUp();
    await expect(planStart(services, workflow, owner, { inputData: { n: 'x' } })).rejects.toSatisfy((e: unknown) =>
      WeftError.is(e, 'INVALID_INPUT'),
    );
    expect(await entryTypes(services, 'r1')).toEqual([]);
    expect((await services.storage.getRun('r1'))?.status).toBe('pending');
  });

  it('a resume plan names the suspended step, at the epoch it saw, and checks the resume data', async () => {
    const { services, workflow, owner } = await setUp();
    await runPlan(services, workflow, owner, (await planStart(services, workflow, owner, { inputData: { n: 1 } }))!);
    const row = await services.storage.getRun('r1');
    const plan = await planResume(services, workflow, 'r1', { resumeData: { ok: true } });
    expect(plan.claim).toEqual({ verb: 'resume', from: ['suspended'], epoch: row!.epoch });
    expect(typeof plan.begin === 'object' && plan.begin.resumeKeys).toEqual(['1']);
    await expect(planResume(services, workflow, 'r1', { resumeData: { ok: 'yes' } })).rejects.toSatisfy((e: unknown) =>
      WeftError.is(e, 'INVALID_RESUME_DATA'),
    );
  });

  it('a resume plan of a run that is not suspended is refused with its status', async () => {
    const { services, workflow, owner } = await setUp();
    await runPlan(services, workflow, owner, (await planStart(services, workflow, owner, { inputData: { n: 1 } }))!);
    await runPlan(services, workflow, owner, await planResume(services, workflow, 'r1', { resumeData: { ok: true } }));
    await expect(planResume(services, workflow, 'r1', { resumeData: { ok: true } })).rejects.toSatisfy(
      (e: unknown) => WeftError.is(e, 'RUN_NOT_SUSPENDED') && e.actualStatus === 'success',
    );
  });

  it('a takeover plan is null for a finished run, and refused for a suspended one', async () => {
    const { services, workflow, owner } = await setUp();
    await runPlan(services, workflow, owner, (await planStart(services, workflow, owner, { inputData: { n: 1 } }))!);
    await expect(planTakeover(services, workflow, 'r1', undefined, undefined)).rejects.toSatisfy((e: unknown) =>
      WeftError.is(e, 'RUN_NOT_ACTIVE'),
    );
    await runPlan(services, workflow, owner, await planResume(services, workflow, 'r1', { resumeData: { ok: true } }));
    expect(await planTakeover(services, workflow, 'r1', undefined, undefined)).toBeNull();
  });

  it('a time travel plan is refused while the run executes in this process', async () => {
    const { services, workflow, owner } = await setUp();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = createStep({
      id: 'slow',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async () => {
        await gate;
        return 1;
      },
    });
    const wf = createWorkflow({ id: 'approval', inputSchema: z.any(), outputSchema: z.any() }).then(slow).commit();
    const running = runPlan(services, wf, owner, (await planStart(services, wf, owner, { inputData: {} }))!);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(planTimeTravel(services, workflow, 'r1', { step: 'add' })).rejects.toSatisfy((e: unknown) =>
      WeftError.is(e, 'RUN_STILL_RUNNING'),
    );
    release();
    expect((await running).status).toBe('success');
  });
});

describe('the pipeline', () => {
  it('claims, executes and records a start: run-start first, the run end last, the run row suspended', async () => {
    const { services, workflow, owner } = await setUp();
    const result = await runPlan(
      services,
      workflow,
      owner,
      (await planStart(services, workflow, owner, { inputData: { n: 1 } }))!,
    );
    expect(result.status).toBe('suspended');
    const types = await entryTypes(services, 'r1');
    expect(types[0]).toBe('run-start');
    expect(types.at(-1)).toBe('run-end');
    const row = await services.storage.getRun('r1');
    expect(row).toMatchObject({ status: 'suspended', leaseOwner: null, epoch: 1 });
  });

  it('refuses a second start by the claim, writing nothing', async () => {
    const { services, workflow, owner } = await setUp();
    const plan = (await planStart(services, workflow, owner, { inputData: { n: 1 } }))!;
    await runPlan(services, workflow, owner, plan);
    const before = await entryTypes(services, 'r1');
    const again = (await planStart(services, workflow, owner, { inputData: { n: 1 } }))!;
    await expect(runPlan(services, workflow, owner, again)).rejects.toSatisfy(
      (e: unknown) => WeftError.is(e, 'RUN_ALREADY_CLAIMED') && e.actualStatus === 'suspended',
    );
    expect(await entryTypes(services, 'r1')).toEqual(before);
  });

  it('calls onClaimed once the claim is made, before the run ends', async () => {
    const { services, workflow, owner } = await setUp();
    const seen: string[] = [];
    const result = runPlan(
      services,
      workflow,
      owner,
      (await planStart(services, workflow, owner, { inputData: { n: 1 } }))!,
      () => seen.push('claimed'),
    );
    await result;
    expect(seen).toEqual(['claimed']);
  });

  it('a takeover claims first (a new epoch), then continues from the journal with run-restart', async () => {
    const { services, workflow, owner } = await setUp();
    await leftRunning(services, 0);
    const plan = (await planTakeover(services, workflow, 'r1', 1, undefined))!;
    expect(typeof plan.begin).toBe('function');
    expect(plan.claim).toEqual({ verb: 'restart', from: ['running', 'waiting'], epoch: 1 });
    const result = await runPlan(services, workflow, owner, plan);
    expect(result.status).toBe('suspended');
    const entries = await services.storage.readJournal('r1');
    expect(entries.slice(0, 4).map((e) => e.type)).toEqual(['run-start', 'step-start', 'run-restart', 'step-start']);
    expect(JSON.parse(entries[3]!.data)).toMatchObject({ key: '0', restart: true });
    expect((await services.storage.getRun('r1'))?.epoch).toBe(2);
  });

  it('a takeover at an epoch that has moved on is refused, and executes nothing', async () => {
    const { services, workflow, owner } = await setUp();
    await leftRunning(services, 0);
    const stale = (await planTakeover(services, workflow, 'r1', 0, undefined))!;
    await expect(runPlan(services, workflow, owner, stale)).rejects.toSatisfy((e: unknown) =>
      WeftError.is(e, 'RUN_ALREADY_CLAIMED'),
    );
    expect(await entryTypes(services, 'r1')).toEqual(['run-start', 'step-start']);
  });
});

describe('cancel of a run no execution here holds', () => {
  it('records the running steps as canceled, then run-cancel and the end, under the epoch the cancel took', async () => {
    const { services } = await setUp();
    await leftRunning(services, Date.now() + 60_000);
    await cancelRun(services, 'r1');
    const entries = await services.storage.readJournal('r1');
    expect(entries.map((e) => e.type)).toEqual(['run-start', 'step-start', 'step-end', 'run-cancel', 'run-end']);
    expect(JSON.parse(entries[2]!.data)).toMatchObject({ key: '0', id: 'add', status: 'canceled' });
    expect(JSON.parse(entries[4]!.data)).toMatchObject({ status: 'canceled' });
    expect(await services.storage.getRun('r1')).toMatchObject({ status: 'canceled', epoch: 2, leaseOwner: null });
  });

  it('leaves a finished run as it is', async () => {
    const { services, owner, workflow } = await setUp();
    await runPlan(services, workflow, owner, (await planStart(services, workflow, owner, { inputData: { n: 1 } }))!);
    await runPlan(services, workflow, owner, await planResume(services, workflow, 'r1', { resumeData: { ok: true } }));
    const before = await entryTypes(services, 'r1');
    await cancelRun(services, 'r1');
    expect(await entryTypes(services, 'r1')).toEqual(before);
    expect((await services.storage.getRun('r1'))?.status).toBe('success');
  });
});
