// The example workflows that `npm start` (weft serve --workflows examples/index.ts) loads.
import { enrichLeads } from './enrich-leads.js';
import { expenseApproval } from './expense-approval.js';
import { publishArticle } from './publish-article.js';
import { supportTriage } from './support-triage/index.js';
import { syncInventory } from './sync-inventory.js';
import { trialReminder } from './trial-reminder.js';

/** Every example workflow by id. */
export const workflows = {
  'expense-approval': expenseApproval,
  'enrich-leads': enrichLeads,
  'publish-article': publishArticle,
  'trial-reminder': trialReminder,
  'sync-inventory': syncInventory,
  'support-triage': supportTriage,
};

export default workflows;
