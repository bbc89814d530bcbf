// Example: support triage. A tool looks the customer up, an agent drafts a reply (streamed live), a person
// approves or edits it (suspend/resume), then it is sent. The agent runs on a local deterministic model.
import { z } from 'zod';
import { createStep, createWorkflow } from 'weft';
import { localAgent } from './local-model-agent.js';

const ticket = z.object({
  ticketId: z.string().describe('Ticket reference, e.g. T-1042'),
  customerEmail: z.string().email().describe('Who wrote in'),
  message: z.string().min(1).describe('What they wrote'),
});

const customer = z.object({
  name: z.string(),
  plan: z.enum(['free', 'pro', 'enterprise']),
  openTickets: z.number(),
});

const CUSTOMERS: Record<string, z.infer<typeof customer>> = {
  'ann@example.com': { name: 'Ann', plan: 'enterprise', openTickets: 2 },
  'bob@example.com': { name: 'Bob', plan: 'free', openTickets: 0 },
};

/**
 * A tool, as Mastra's `createTool` makes one: `execute(input, context)`. Weft knows tools by the marker
 * Mastra's `Tool` carries; a Mastra program passes its `createTool(...)` result to `createStep` as is.
 */
const lookupCustomer = {
  [Symbol.for('mastra.core.tool.Tool')]: true,
  id: 'lookup-customer',
  description: 'Finds the customer who wrote the ticket',
  inputSchema: ticket,
  outputSchema: z.object({ ticket, customer }),
  execute: async (input: z.infer<typeof ticket>) => ({
    ticket: input,
    customer: CUSTOMERS[input.customerEmail.toLowerCase()] ?? { name: 'there', plan: 'free', openTickets: 0 },
  }),
};

/** The answer of the local model: picks a reply by what the ticket is about. */
function draftReply(prompt: string): string {
  const name = /Customer: (\w+)/.exec(prompt)?.[1] ?? 'there';
  const priority = /Plan: enterprise/.test(prompt) ? ' As an enterprise customer you have priority handling.' : '';
  if (/refund|charge|invoice|billing/i.test(prompt))
    return `Hi ${name}, thanks for reaching out about billing. I have asked our billing team to review the charge and they will reply within one business day.${priority}`;
  if (/crash|error|bug|broken/i.test(prompt))
    return `Hi ${name}, sorry about the trouble. I have filed this with engineering with the details you sent; we will update you as soon as there is a fix.${priority}`;
  return `Hi ${name}, thanks for your message. A member of the team will get back to you shortly.${priority}`;
}

/** In a Mastra program: `new Agent({ id: 'support-agent', instructions, model })` (see README.md here). */
export const supportAgent = localAgent({
  id: 'support-agent',
  description: 'Drafts a reply to a support ticket',
  modelId: 'local-rules-1',
  answer: draftReply,
});

const approveReply = createStep({
  id: 'approve-reply',
  description: 'A person approves the drafted reply, or edits it',
  inputSchema: z.object({ text: z.string() }),
  outputSchema: z.object({ reply: z.string(), approvedBy: z.string() }),
  suspendSchema: z.object({ draft: z.string() }),
  resumeSchema: z.object({
    approvedBy: z.string().min(1).describe('Your name'),
    reply: z.string().optional().describe('Leave empty to send the draft as it is'),
  }),
  execute: async ({ inputData, resumeData, suspend }) => {
    if (!resumeData) return suspend({ draft: inputData.text });
    return { reply: resumeData.reply || inputData.text, approvedBy: resumeData.approvedBy };
  },
});

const sendReply = createStep({
  id: 'send-reply',
  description: 'Sends the approved reply',
  inputSchema: z.object({ reply: z.string(), approvedBy: z.string() }),
  outputSchema: z.object({ sent: z.boolean(), reply: z.string() }),
  execute: async ({ inputData }) => ({ sent: true, reply: inputData.reply }),
});

export const supportTriage = createWorkflow({
  id: 'support-triage',
  description: 'Looks the customer up, drafts a reply with an agent, waits for approval, sends it',
  inputSchema: ticket,
  outputSchema: z.object({ sent: z.boolean(), reply: z.string() }),
})
  .then(createStep(lookupCustomer))
  .map(async ({ inputData }) => ({
    prompt: `Customer: ${inputData.customer.name}. Plan: ${inputData.customer.plan}. Ticket ${inputData.ticket.ticketId}: ${inputData.ticket.message}`,
  }))
  .then(createStep(supportAgent))
  .then(approveReply)
  .then(sendReply)
  .commit();
