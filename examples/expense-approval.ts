// Example: an expense claim that suspends for a person's approval when it is over the auto-approval limit.
import { z } from 'zod';
import { createStep, createWorkflow } from 'weft';

const claim = z.object({
  claimId: z.string().describe('Reference of the claim, e.g. EXP-1042'),
  employee: z.string().describe('Who spent the money'),
  amount: z.number().positive().describe('Amount claimed'),
  currency: z.enum(['EUR', 'USD', 'GBP']).default('EUR'),
  purpose: z.string().describe('What it was for'),
});

const checked = claim.extend({
  needsApproval: z.boolean(),
  policyNotes: z.array(z.string()),
});

const decision = z.object({
  claimId: z.string(),
  approved: z.boolean(),
  approver: z.string(),
  comment: z.string().optional(),
});

/** Limit under which a claim is approved by policy, without a person. */
export const AUTO_APPROVAL_LIMIT = 100;

const checkPolicy = createStep({
  id: 'check-policy',
  description: 'Checks the claim against the expense policy',
  inputSchema: claim,
  outputSchema: checked,
  execute: async ({ inputData }) => {
    const notes: string[] = [];
    if (inputData.amount > 1000) notes.push('Over 1,000: needs a receipt scan');
    if (/dinner|drinks/i.test(inputData.purpose)) notes.push('Entertainment: list the guests');
    return { ...inputData, needsApproval: inputData.amount > AUTO_APPROVAL_LIMIT, policyNotes: notes };
  },
});

const requestApproval = createStep({
  id: 'request-approval',
  description: 'Waits for a manager to approve or reject the claim',
  inputSchema: checked,
  outputSchema: decision,
  suspendSchema: z.object({
    claimId: z.string(),
    summary: z.string(),
    policyNotes: z.array(z.string()),
  }),
  resumeSchema: z.object({
    approved: z.boolean().describe('Approve the claim?'),
    approver: z.string().min(1).describe('Your name'),
    comment: z.string().optional().describe('Shown to the employee'),
  }),
  execute: async ({ inputData, resumeData, suspend }) => {
    if (!inputData.needsApproval) {
      return {
        claimId: inputData.claimId,
        approved: true,
        approver: 'policy',
        comment: 'Under the auto-approval limit',
      };
    }
    if (!resumeData) {
      await suspend({
        claimId: inputData.claimId,
        summary: `${inputData.employee} claims ${inputData.amount} ${inputData.currency} for "${inputData.purpose}"`,
        policyNotes: inputData.policyNotes,
      });
      return undefined as never;
    }
    return { claimId: inputData.claimId, ...resumeData };
  },
});

const settlement = z.object({
  claimId: z.string(),
  outcome: z.enum(['reimbursed', 'rejected']),
  message: z.string(),
});

const settle = createStep({
  id: 'settle',
  description: 'Schedules the reimbursement or tells the employee why not',
  inputSchema: decision,
  outputSchema: settlement,
  execute: async ({ inputData }) => ({
    claimId: inputData.claimId,
    outcome: inputData.approved ? ('reimbursed' as const) : ('rejected' as const),
    message: inputData.approved
      ? `Approved by ${inputData.approver}; paid with the next payroll`
      : `Rejected by ${inputData.approver}${inputData.comment ? `: ${inputData.comment}` : ''}`,
  }),
});

/** Expense claims: policy check, a person's approval above the limit, then settlement. */
export const expenseApproval = createWorkflow({
  id: 'expense-approval',
  description: 'An expense claim that waits for a manager when it is over the auto-approval limit',
  inputSchema: claim,
  outputSchema: settlement,
})
  .then(checkPolicy)
  .then(requestApproval)
  .then(settle)
  .commit();
