// Model usage of a step (tokens in and out, model id, finish reason): reported by agent steps, kept in the step's end entry.

import type { TokenUsage } from '../events/event-types.js';
import type { StepUsage, UsageTotal } from './types.js';

export type { StepUsage, UsageTotal } from './types.js';

/**
 * The key of the step context's usage recorder: an agent step calls `ctx[RECORD_USAGE](usage)` once
 * its model has finished, and the engine stores the usage with the step's end.
 */
export const RECORD_USAGE: unique symbol = Symbol.for('weft.recordUsage');

const TOKEN_FIELDS = ['inputTokens', 'outputTokens', 'totalTokens', 'reasoningTokens', 'cachedInputTokens'] as const;

/** Keeps the known fields of a usage report that hold what they should (numbers, strings), or undefined when none does. */
export function cleanUsage(report: Record<string, unknown>): StepUsage | undefined {
  const usage: StepUsage = {};
  for (const field of TOKEN_FIELDS) {
    const value = report[field];
    if (typeof value === 'number' && Number.isFinite(value)) usage[field] = value;
  }
  for (const field of ['modelId', 'provider', 'finishReason'] as const) {
    const value = report[field];
    if (typeof value === 'string' && value !== '') usage[field] = value;
  }
  return Object.keys(usage).length > 0 ? usage : undefined;
}

/** Adds up the tokens of several usages (a total of zero when none reports any). */
export function totalUsage(usages: Iterable<StepUsage | undefined>): UsageTotal {
  const total: UsageTotal = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  for (const u of usages) {
    if (!u) continue;
    total.inputTokens += u.inputTokens ?? 0;
    total.outputTokens += u.outputTokens ?? 0;
    total.totalTokens += u.totalTokens ?? (u.inputTokens ?? 0) + (u.outputTokens ?? 0);
  }
  return total;
}

/**
 * Adds a step's tokens to the usage of an execution (a stream's `workflow-finish` and `usage` report
 * the tokens of the agent steps that ended while it ran, as the reference's do).
 */
export function addTokens(sum: TokenUsage | undefined, usage: StepUsage): TokenUsage {
  const total = sum ?? {
    inputTokens: 0,
    outputTokens: 0,
    totalTokens: 0,
    cachedInputTokens: 0,
    cacheCreationInputTokens: 0,
    reasoningTokens: 0,
  };
  total.inputTokens += usage.inputTokens ?? 0;
  total.outputTokens += usage.outputTokens ?? 0;
  total.totalTokens += usage.totalTokens ?? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
  total.cachedInputTokens += usage.cachedInputTokens ?? 0;
  total.reasoningTokens += usage.reasoningTokens ?? 0;
  return total;
}
