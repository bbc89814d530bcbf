// A run's state folded from its journal: step records by key, display results by id, state, outcome.
// The executor applies each entry as it writes it, and readers fold stored entries the same way,
// so a live run and a replayed one always agree.
import { deserializeError } from './serialize-error.js';
import { inSiblingBranch, isAtOrAfter, isItemOf, keyPositions } from './step-keys.js';
import type { EntryDataMap, EntryType, StepEndData, StepStartData } from './entries.js';
import type { JournalEntry, RunStatus } from '../storage/types.js';
import { readEntry } from './encoding.js';
import type { SerializedError, StepResult, StepTryView, StepUsage } from '../workflow/types.js';

/** One failed attempt of a step that was tried again. */
interface StepTry {
  attempt: number;
  startedAt: number;
  endedAt: number;
  error: SerializedError;
  nextAt: number;
}

/** One execution of one graph position. */
export interface StepRecord extends StepResult {
  key: string;
  id: string;
  item?: number;
  restart?: boolean;
  resumeLabels?: string[];
  wakeAt?: number;
  /** Its failed attempts, oldest first, when it was retried (`step-retry` entries). */
  retries?: StepTry[];
  /** Model usage of an agent step. */
  usage?: StepUsage;
  /** The id its attempts were dispatched under (`StepStartData.dispatch`). */
  dispatch?: string;
  /** When it ended suspended: its place among the run's suspensions, in journal order (1, 2, ...), kept across its resumes. */
  suspendOrder?: number;
}

export class RunProjection {
  input: unknown = undefined;
  /**
   * The run's state: one object per execution, updated in place as steps end (entries carry their own
   * copies), so what steps and conditions read is always current. Replaced only by a start, a time travel or an end.
   */
  state: Record<string, unknown> = {};
  requestContext: Record<string, unknown> = {};
  resourceId: string | null = null;
  /** Latest record per key. */
  readonly records = new Map<string, StepRecord>();
  readonly branches = new Map<string, number[]>();
  stepExecutionPath: string[] = [];
  status: RunStatus = 'pending';
  result: unknown = undefined;
  error: SerializedError | undefined = undefined;
  attempts: { attempt: number; startedAt: number; steps: Record<string, StepResult> }[] = [];
  lastSeq = 0;
  /** Keys of the latest resume, and its data. */
  resumeKeys: string[] = [];
  resumeData: unknown = undefined;
  resumeLabel: string | undefined = undefined;
  perStep = false;
  /** `writer.write` and `writer.custom` entries seen, across every execution of the run. */
  outputEntries = 0;
  /** Suspensions seen, numbering `StepRecord.suspendOrder`. */
  private suspensions = 0;

  /** Folds in stored entries of run `runId`, in order, refusing any this Weft cannot read (`readEntry`). */
  applyStored(entries: readonly JournalEntry[], runId: string): void {
    for (const stored of entries) {
      const { type, data, seq, at } = readEntry(stored, runId);
      this.apply(type, data, seq, at);
    }
  }

  /** Folds one entry in. */
  apply<T extends EntryType>(type: T, data: EntryDataMap[T], seq: number, at: number): void {
    this.lastSeq = seq;
    switch (type) {
      case 'run-start': {
        const d = data as EntryDataMap['run-start'];
        this.input = d.input;
        this.state = { ...d.state };
        this.requestContext = d.requestContext;
        this.resourceId = d.resourceId;
        this.perStep = d.perStep === true;
        this.status = 'running';
        break;
      }
      case 'run-resume': {
        const d = data as EntryDataMap['run-resume'];
        this.resumeKeys = d.keys;
        this.resumeData = d.resumeData;
        this.resumeLabel = d.label;
        this.requestContext = d.requestContext;
        this.perStep = d.perStep === true;
        this.status = 'running';
        break;
      }
      case 'run-restart':
        // The latest resume stays in force: a step interrupted while resumed runs again with its data.
        this.status = 'running';
        break;
      case 'run-time-travel': {
        const d = data as EntryDataMap['run-time-travel'];
        this.attempts.push({
          attempt: this.attempts.length + 1,
          startedAt: at,
          steps: this.withUsage(this.displaySteps(true)),
        });
        const target = keyPositions(d.key);
        for (const key of [...this.records.keys()]) {
          if (isAtOrAfter(key, target) && !inSiblingBranch(key, d.key)) this.records.delete(key);
        }
        for (const key of [...this.branches.keys()]) if (isAtOrAfter(key, target)) this.branches.delete(key);
        for (const [key, rec] of Object.entries(d.records)) {
          this.records.set(key, {
            ...rec,
            key,
            startedAt: rec.startedAt ?? at,
            endedAt: rec.endedAt ?? at,
          } as StepRecord);
        }
        if (d.input !== undefined) this.input = d.input;
        if (d.state !== undefined) this.state = { ...d.state };
        this.requestContext = d.requestContext;
        this.perStep = d.perStep === true;
        this.resumeKeys = d.resumeData === undefined ? [] : [d.key];
        this.resumeData = d.resumeData;
        this.result = undefined;
        this.error = undefined;
        this.status = 'running';
        break;
      }
      case 'step-start':
        this.applyStart(data as StepStartData);
        break;
      case 'step-end':
        this.applyEnd(data as StepEndData);
        break;
      case 'step-retry': {
        const { key, attempt, startedAt, endedAt, error, nextAt } = data as EntryDataMap['step-retry'];
        const rec = this.records.get(key);
        if (rec) (rec.retries ??= []).push({ attempt, startedAt, endedAt, error, nextAt });
        break;
      }
      case 'step-output':
      case 'custom':
        this.outputEntries++;
        break;
      case 'branch': {
        const d = data as EntryDataMap['branch'];
        this.branches.set(d.key, d.chosen);
        break;
      }
      case 'nested-retry': {
        const { prefix } = data as EntryDataMap['nested-retry'];
        for (const key of [...this.records.keys()]) if (key.startsWith(prefix)) this.records.delete(key);
        for (const key of [...this.branches.keys()]) if (key.startsWith(prefix)) this.branches.delete(key);
        break;
      }
      case 'run-cancel':
        this.status = 'canceled';
        break;
      case 'run-pause':
        this.status = 'paused';
        break;
      case 'run-end': {
        const d = data as EntryDataMap['run-end'];
        this.status = d.status;
        this.result = d.result;
        this.error = d.error;
        if (d.state !== this.state) this.state = { ...d.state };
        this.requestContext = d.requestContext;
        break;
      }
      default:
        break;
    }
  }

  private applyStart(d: StepStartData): void {
    const prev = this.records.get(d.key);
    const rec: StepRecord = {
      key: d.key,
      id: d.id,
      status: d.status ?? 'running',
      payload: d.payload,
      startedAt: d.startedAt,
    };
    if (d.item !== undefined) rec.item = d.item;
    if (prev?.suspendPayload !== undefined) {
      rec.suspendPayload = prev.suspendPayload;
      rec.suspendedAt = prev.suspendedAt!;
    }
    // Resumed, it keeps its place among the suspensions should it suspend again (as Mastra's suspended paths keep theirs).
    if (prev?.status === 'suspended' && prev.suspendOrder !== undefined) rec.suspendOrder = prev.suspendOrder;
    if (d.resumePayload !== undefined || d.resumedAt !== undefined) {
      rec.resumePayload = d.resumePayload;
      rec.resumedAt = d.resumedAt!;
    }
    if (d.wakeAt !== undefined) rec.wakeAt = d.wakeAt;
    if (d.metadata !== undefined) rec.metadata = d.metadata;
    if (d.restart) rec.restart = true;
    if (d.dispatch !== undefined) rec.dispatch = d.dispatch;
    // Attempts that failed before a restart or a suspension stay part of this execution's history.
    if (prev?.retries) rec.retries = prev.retries;
    this.records.set(d.key, rec);
    // The path lists this level only: a nested workflow appears once, under its own id (as in Mastra).
    if (d.inPath && !d.id.includes('.')) this.stepExecutionPath.push(d.id);
  }

  private applyEnd(d: StepEndData): void {
    const rec = this.records.get(d.key) ?? { key: d.key, id: d.id, status: d.status, startedAt: d.endedAt };
    rec.status = d.status;
    rec.endedAt = d.endedAt;
    if ('output' in d) rec.output = d.output;
    // A step's error is an Error again (name, own fields, cause chain), in a live run as in a stored one.
    if (d.error !== undefined) rec.error = deserializeError(d.error);
    if (d.nonRetryable) rec.nonRetryable = true;
    if (d.bailed) rec.bailed = true;
    if (d.suspendPayload !== undefined || d.status === 'suspended') {
      rec.suspendPayload = d.suspendPayload;
      rec.suspendedAt = d.suspendedAt ?? d.endedAt;
    }
    if (d.status === 'suspended') rec.suspendOrder ??= ++this.suspensions;
    if (d.suspendOutput !== undefined) rec.suspendOutput = d.suspendOutput;
    if (d.resumeLabels !== undefined) rec.resumeLabels = d.resumeLabels;
    if (d.metadata !== undefined) rec.metadata = { ...rec.metadata, ...d.metadata };
    if (d.usage !== undefined) rec.usage = d.usage;
    // In place: the state a step reads (`ctx.state`) is the run's current state, as siblings update it.
    if (d.state !== undefined) Object.assign(this.state, d.state);
    this.records.set(d.key, rec);
  }

  /**
   * Step results by display id, latest execution winning. Top level only, unless `nested`:
   * then steps inside nested workflows appear under dotted ids too. Foreach items are left out.
   */
  displaySteps<T extends object = Record<string, never>>(nested: boolean, into?: T): T & Record<string, StepResult> {
    const out = (into ?? {}) as T & Record<string, StepResult>;
    for (const rec of this.records.values()) {
      if (rec.item !== undefined) continue;
      if (!nested && rec.id.includes('.')) continue;
      (out as Record<string, StepResult>)[rec.id] = toStepResult(rec);
    }
    return out;
  }

  /**
   * Adds each agent step's model usage to display results (stored-run views and earlier attempts;
   * `run.start()`'s result keeps the reference's step shape).
   */
  withUsage(steps: Record<string, StepResult>): Record<string, StepResult> {
    for (const rec of this.records.values()) {
      const step = rec.item === undefined && rec.usage ? steps[rec.id] : undefined;
      if (step) step.usage = rec.usage;
    }
    return steps;
  }

  /** The records of a foreach's items, in index order. */
  foreachItems(foreachKey: string): StepRecord[] {
    const items: StepRecord[] = [];
    for (const [key, rec] of this.records)
      if (rec.item !== undefined && isItemOf(key, foreachKey)) items[rec.item] = rec;
    return items;
  }
}

/** A record as shown in results: the step result fields only (field by field: this runs per step of every result). */
export function toStepResult(rec: StepRecord): StepResult {
  const out: StepResult = { status: rec.status, payload: rec.payload, startedAt: rec.startedAt };
  if ('output' in rec) out.output = rec.output;
  if (rec.endedAt !== undefined) out.endedAt = rec.endedAt;
  if (rec.error !== undefined) out.error = rec.error;
  if (rec.nonRetryable !== undefined) out.nonRetryable = rec.nonRetryable;
  if (rec.bailed) out.bailed = true;
  if (rec.suspendedAt !== undefined || rec.suspendPayload !== undefined) {
    out.suspendPayload = rec.suspendPayload;
    out.suspendedAt = rec.suspendedAt;
  }
  if (rec.resumedAt !== undefined || rec.resumePayload !== undefined) {
    out.resumePayload = rec.resumePayload;
    out.resumedAt = rec.resumedAt;
  }
  if (rec.suspendOutput !== undefined) out.suspendOutput = rec.suspendOutput;
  if (rec.metadata !== undefined) out.metadata = rec.metadata;
  return out;
}

/** Every attempt of a retried record, numbered in order (a restart counts on), or undefined when it ran once. */
export function stepTries(rec: StepRecord): StepTryView[] | undefined {
  const retries = rec.retries;
  if (!retries || retries.length === 0) return undefined;
  const tries: StepTryView[] = retries.map((t, i) => ({
    attempt: i + 1,
    status: 'failed',
    startedAt: t.startedAt,
    endedAt: t.endedAt,
    error: t.error,
  }));
  const last: StepTryView = { attempt: tries.length + 1, status: rec.status, startedAt: retries.at(-1)!.nextAt };
  if (rec.endedAt !== undefined && rec.endedAt >= last.startedAt) last.endedAt = rec.endedAt;
  if (rec.error !== undefined) last.error = rec.error;
  tries.push(last);
  return tries;
}
