// The shapes of journal entry data: what the engine records for a run, one entry per fact.
//
// Keys address one execution of one graph position: `2` is the third node of the top-level
// sequence, `2.1` its second parallel/branch child, `2@3` the third iteration of a loop,
// `2[7]` the eighth foreach item, `4/0` the first node inside the nested workflow at `4`.

import type { TokenUsage } from '../events/event-types.js';
import type { SerializedError, StepStatus, StepUsage } from '../workflow/types.js';

export interface RunStartData {
  input: unknown;
  state: Record<string, unknown>;
  requestContext: Record<string, unknown>;
  resourceId: string | null;
  perStep?: boolean;
}

export interface RunResumeData {
  keys: string[];
  resumeData: unknown;
  label?: string;
  requestContext: Record<string, unknown>;
  perStep?: boolean;
}

export interface RunTimeTravelData {
  attempt: number;
  /** Key of the target; records at or after it are replaced. */
  key: string;
  /** Records supplied or made up for steps before the target, keyed by key. */
  records: Record<string, StepRecordData>;
  input?: unknown;
  state?: Record<string, unknown>;
  resumeData?: unknown;
  requestContext: Record<string, unknown>;
  perStep?: boolean;
}

export interface StepStartData {
  key: string;
  /** Display id: the step id, dotted inside nested workflows (`outer.inner`). */
  id: string;
  payload: unknown;
  startedAt: number;
  status?: 'running' | 'waiting';
  /** Foreach item index, for item executions. */
  item?: number;
  /** Listed in `stepExecutionPath`. */
  inPath?: true;
  resumePayload?: unknown;
  resumedAt?: number;
  /** A sleep's end (epoch ms). */
  wakeAt?: number;
  metadata?: Record<string, unknown>;
  /** A restart ran this step again. */
  restart?: true;
  /**
   * The step's attempts are dispatched to any worker under this id (attempt n as `<id>:<n>`): a
   * restart keeps it, so an attempt another worker finished is collected, never executed again.
   */
  dispatch?: string;
}

export interface StepEndData {
  key: string;
  id: string;
  status: StepStatus;
  endedAt: number;
  item?: number;
  /** The step called `bail()`: its status says how the run went on (`success` when the bail ended its level). */
  bailed?: true;
  output?: unknown;
  error?: SerializedError;
  nonRetryable?: true;
  suspendPayload?: unknown;
  suspendedAt?: number;
  suspendOutput?: unknown;
  resumeLabels?: string[];
  /** Workflow state after this step, when it changed. */
  state?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** For foreach items: progress of the whole foreach. */
  progress?: { completedCount: number; totalCount: number };
  /** Model usage of an agent step (tokens, model id, finish reason). */
  usage?: StepUsage;
}

/**
 * An attempt of a step that threw while retries remained (`retries` of the step or the workflow's
 * `retryConfig`). Written before the next attempt begins; journals written before this entry
 * existed have none, and their steps read as tried once.
 */
export interface StepRetryData {
  key: string;
  id: string;
  item?: number;
  /** 1 for the first attempt. */
  attempt: number;
  startedAt: number;
  endedAt: number;
  error: SerializedError;
  /** When the next attempt is due (after the retry delay). */
  nextAt: number;
}

/** A step record as supplied to time travel. */
export interface StepRecordData {
  id: string;
  status: StepStatus;
  payload?: unknown;
  output?: unknown;
  startedAt?: number;
  endedAt?: number;
  item?: number;
}

/** A nested workflow that failed runs again (its parent's retries): what it recorded inside is set aside. */
interface NestedRetryData {
  /** Key prefix of the nested workflow's steps (`4/`). */
  prefix: string;
  /** The attempt about to start (1 for the first retry). */
  attempt: number;
}

interface BranchData {
  key: string;
  chosen: number[];
}

interface StepOutputData {
  id: string;
  output: unknown;
}

interface CustomEventData {
  type: string;
  data?: unknown;
  [key: string]: unknown;
}

interface RunEndData {
  status: 'success' | 'failed' | 'suspended' | 'canceled' | 'paused';
  result?: unknown;
  error?: SerializedError;
  state: Record<string, unknown>;
  requestContext: Record<string, unknown>;
  /** Tokens of the agent steps that ended in this execution (absent when none reported usage). */
  usage?: TokenUsage;
}

/** Journal entry type → its data. */
export interface EntryDataMap {
  'run-start': RunStartData;
  'run-resume': RunResumeData;
  'run-restart': { requestContext?: Record<string, unknown> };
  'run-time-travel': RunTimeTravelData;
  'step-start': StepStartData;
  'step-end': StepEndData;
  'step-retry': StepRetryData;
  branch: BranchData;
  'nested-retry': NestedRetryData;
  'step-output': StepOutputData;
  custom: CustomEventData;
  'run-cancel': Record<string, never>;
  'run-pause': Record<string, never>;
  'run-end': RunEndData;
}

export type EntryType = keyof EntryDataMap;

/** Every entry type (a record, so that the compiler sees none is missing). */
const ENTRY_TYPE_LIST: Record<EntryType, true> = {
  'run-start': true,
  'run-resume': true,
  'run-restart': true,
  'run-time-travel': true,
  'step-start': true,
  'step-end': true,
  'step-retry': true,
  branch: true,
  'nested-retry': true,
  'step-output': true,
  custom: true,
  'run-cancel': true,
  'run-pause': true,
  'run-end': true,
};
const ENTRY_TYPES: ReadonlySet<string> = new Set(Object.keys(ENTRY_TYPE_LIST));

/** True when `type` names an entry type of this format. */
export function isEntryType(type: string): type is EntryType {
  return ENTRY_TYPES.has(type);
}

/**
 * The journal format this Weft writes and reads. The version is part of each stored entry's type:
 * an entry of format 1 has its type alone (`step-end`), and a later format N that changes what an
 * entry means tags it `step-end@N`, so every stored entry says which format it is in, and journals
 * written before versions existed read as format 1 unchanged. A reader refuses an entry of a format
 * above its own (or of a type it does not know) rather than misread it.
 */
export const JOURNAL_FORMAT = 1;
