// The events a run emits, as stream() delivers them.

/** Every event type. `data-*` events come from `writer.custom`. */
export type WorkflowEventType =
  | 'workflow-start'
  | 'workflow-step-start'
  | 'workflow-step-result'
  | 'workflow-step-suspended'
  | 'workflow-step-waiting'
  | 'workflow-step-output'
  | 'workflow-step-progress'
  /** Only from `run.watch()`: after each step result. */
  | 'workflow-step-finish'
  | 'workflow-canceled'
  | 'workflow-paused'
  | 'workflow-finish'
  | `data-${string}`;

/**
 * One event. `seq` is per run and strictly increasing, so a client that lost its connection can
 * ask for what came after the last `seq` it saw. `data-*` events carry `data` instead of `payload`.
 */
export interface WorkflowEvent {
  type: WorkflowEventType;
  runId: string;
  from: 'WORKFLOW' | 'USER';
  seq: number;
  payload?: any;
  data?: unknown;
}

/** Token usage, as `workflow-finish` and `usage` report it: the tokens of the agent steps a stream carried (zeros without agents). */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cachedInputTokens: number;
  cacheCreationInputTokens: number;
  reasoningTokens: number;
}

/**
 * An event as `watch` gives it, shaped as Mastra's watch events: `{ type, payload }` (writer events
 * as the stream has them), with Mastra's payload fields (no `stepName`, no `seq`).
 */
export interface WatchEvent {
  type: WorkflowEventType;
  payload?: any;
  /** `data-*` events (from `writer.custom`). */
  data?: unknown;
  /** `workflow-step-output` events only. */
  runId?: string;
  from?: 'WORKFLOW' | 'USER';
  [field: string]: unknown;
}
