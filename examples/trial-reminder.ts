// Example: durable sleeps: a trial that waits, reminds the customer, waits again and then converts or expires.
import { z } from 'zod';
import { createStep, createWorkflow } from 'weft';

const trial = z.object({
  customer: z.string(),
  plan: z.enum(['starter', 'team', 'business']),
  trialSeconds: z
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(20)
    .describe('Length of the trial (seconds, short for the demo)'),
});

const started = trial.extend({ startedAt: z.string() });
const reminded = started.extend({ remindedAt: z.string() });
const closed = z.object({ customer: z.string(), outcome: z.enum(['converted', 'expired']), plan: z.string() });

const startTrial = createStep({
  id: 'start-trial',
  description: 'Opens the trial account',
  inputSchema: trial,
  outputSchema: started,
  execute: async ({ inputData }) => ({ ...inputData, startedAt: new Date().toISOString() }),
});

const sendReminder = createStep({
  id: 'send-reminder',
  description: 'Emails the customer that the trial ends soon',
  inputSchema: started,
  outputSchema: reminded,
  execute: async ({ inputData }) => ({ ...inputData, remindedAt: new Date().toISOString() }),
});

const closeTrial = createStep({
  id: 'close-trial',
  description: 'Converts the account to a paid plan, or expires it',
  inputSchema: reminded,
  outputSchema: closed,
  execute: async ({ inputData }) => ({
    customer: inputData.customer,
    outcome: inputData.plan === 'starter' ? ('expired' as const) : ('converted' as const),
    plan: inputData.plan,
  }),
});

/** A trial with two durable sleeps: they survive a restart of the server and wake at their original time. */
export const trialReminder = createWorkflow({
  id: 'trial-reminder',
  description: 'Waits out a trial period (durably), reminds the customer, then converts or expires the account',
  inputSchema: trial,
  outputSchema: closed,
})
  .then(startTrial)
  .sleep(({ inputData }: { inputData: { trialSeconds: number } }) => Math.round(inputData.trialSeconds * 750), {
    id: 'trial-period',
  })
  .then(sendReminder)
  .sleep(({ inputData }: { inputData: { trialSeconds: number } }) => Math.round(inputData.trialSeconds * 250), {
    id: 'grace-period',
  })
  .then(closeTrial)
  .commit();
