// Example: a fan-out that enriches each lead of a list with foreach, three at a time, then sums up.
import { z } from 'zod';
import { createStep, createWorkflow } from 'weft';

const lead = z.object({ email: z.string().email() });
const enriched = lead.extend({
  company: z.string(),
  employees: z.number(),
  score: z.number().min(0).max(100),
});

const COMPANIES: Record<string, { name: string; employees: number }> = {
  'acme.test': { name: 'Acme Corp', employees: 1200 },
  'globex.test': { name: 'Globex', employees: 340 },
  'initech.test': { name: 'Initech', employees: 85 },
  'umbrella.test': { name: 'Umbrella', employees: 9000 },
};

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const splitLeads = createStep({
  id: 'split-leads',
  description: 'Normalises the addresses and drops duplicates',
  inputSchema: z.object({ campaign: z.string(), emails: z.array(z.string()).min(1) }),
  outputSchema: z.array(lead),
  execute: async ({ inputData }) =>
    [...new Set(inputData.emails.map((e) => e.trim().toLowerCase()))].map((email) => ({ email })),
});

const enrichLead = createStep({
  id: 'enrich-lead',
  description: 'Looks the company up by the address domain (a slow remote API)',
  inputSchema: lead,
  outputSchema: enriched,
  retries: 2,
  execute: async ({ inputData, abortSignal }) => {
    const domain = inputData.email.split('@')[1] ?? '';
    await wait(300 + (domain.length % 5) * 150);
    if (abortSignal.aborted) throw new Error(`Lookup of ${inputData.email} was canceled`);
    const company = COMPANIES[domain] ?? { name: domain, employees: 10 };
    const score = Math.min(100, Math.round(20 + Math.log10(company.employees) * 20));
    return { ...inputData, company: company.name, employees: company.employees, score };
  },
});

const summarize = createStep({
  id: 'summarize',
  description: 'Ranks the leads for the sales team',
  inputSchema: z.array(enriched),
  outputSchema: z.object({ leads: z.number(), best: z.string(), averageScore: z.number() }),
  execute: async ({ inputData }) => {
    const sorted = [...inputData].sort((a, b) => b.score - a.score);
    const average = inputData.reduce((sum, l) => sum + l.score, 0) / Math.max(1, inputData.length);
    return { leads: inputData.length, best: sorted[0]?.email ?? '', averageScore: Math.round(average) };
  },
});

/** Lead enrichment: split the list, enrich every lead (three at a time), rank them. */
export const enrichLeads = createWorkflow({
  id: 'enrich-leads',
  description: 'Enriches a list of sales leads in parallel, three lookups at a time',
  inputSchema: splitLeads.inputSchema,
  outputSchema: summarize.outputSchema,
})
  .then(splitLeads)
  .foreach(enrichLead, { concurrency: 3 })
  .then(summarize)
  .commit();
