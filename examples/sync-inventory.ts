// Example: a short three-step job with retries and a failure mode, good for trying time travel.
import { z } from 'zod';
import { createStep, createWorkflow } from 'weft';

const stockLine = z.object({ sku: z.string(), counted: z.number().int(), expected: z.number().int() });

const countsInput = z.object({
  warehouse: z.string(),
  /** The warehouse API times out on every attempt. */
  simulateOutage: z.boolean().default(false),
  /** The warehouse API times out on this many attempts, then answers (the step is tried 3 times). */
  flakyAttempts: z.number().int().min(0).default(0),
});
const counts = z.object({ warehouse: z.string(), lines: z.array(stockLine) });
const reconciled = z.object({ warehouse: z.string(), differences: z.array(stockLine.extend({ delta: z.number() })) });
const stockReport = z.object({ warehouse: z.string(), message: z.string(), differences: z.number() });

const fetchCounts = createStep({
  id: 'fetch-counts',
  description: 'Downloads the shelf counts of a warehouse',
  inputSchema: countsInput,
  outputSchema: counts,
  retries: 2,
  execute: async ({ inputData, retryCount }) => {
    await new Promise((resolve) => setTimeout(resolve, 40 + retryCount * 25));
    if (inputData.simulateOutage || retryCount < inputData.flakyAttempts) {
      throw Object.assign(new Error(`Warehouse API of "${inputData.warehouse}" timed out`), {
        status: 504,
        attempt: retryCount,
      });
    }
    return {
      warehouse: inputData.warehouse,
      lines: [
        { sku: 'CHAIR-OAK', counted: 41, expected: 40 },
        { sku: 'DESK-PINE', counted: 12, expected: 15 },
        { sku: 'LAMP-BRASS', counted: 7, expected: 7 },
      ],
    };
  },
});

const reconcile = createStep({
  id: 'reconcile',
  description: 'Finds the lines whose count differs from the books',
  inputSchema: counts,
  outputSchema: reconciled,
  execute: async ({ inputData }) => ({
    warehouse: inputData.warehouse,
    differences: inputData.lines
      .filter((l) => l.counted !== l.expected)
      .map((l) => ({ ...l, delta: l.counted - l.expected })),
  }),
});

const report = createStep({
  id: 'report',
  description: 'Posts the differences to the stock channel',
  inputSchema: reconciled,
  outputSchema: stockReport,
  execute: async ({ inputData }) => ({
    warehouse: inputData.warehouse,
    differences: inputData.differences.length,
    message:
      inputData.differences.length === 0
        ? `${inputData.warehouse}: books and shelves agree`
        : `${inputData.warehouse}: ${inputData.differences.map((d) => `${d.sku} ${d.delta > 0 ? '+' : ''}${d.delta}`).join(', ')}`,
  }),
});

/** Inventory sync: fetch counts (retried on outages), reconcile, report. */
export const syncInventory = createWorkflow({
  id: 'sync-inventory',
  description: 'Reconciles shelf counts with the books and reports the differences',
  inputSchema: countsInput,
  outputSchema: stockReport,
  // Every weekday at 06:00 in Berlin (weft schedules list, or the inspector's Schedules page, shows it).
  schedule: { cron: '0 6 * * 1-5', timezone: 'Europe/Berlin', inputData: { warehouse: 'north' } },
})
  .then(fetchCounts)
  .then(reconcile)
  .then(report)
  .commit();
