// weft: durable workflows for TypeScript. Definitions, the Run handle, the engine instance, memory storage, errors.
import { privateHost } from './run/private-host.js';
import { setDefaultHostFactory } from './workflow/host.js';

export { createStep, cloneStep } from './workflow/create-step.js';
export type { StepParams } from './workflow/create-step.js';
export { createWorkflow, cloneWorkflow, Workflow, isWorkflow } from './workflow/create-workflow.js';
export type { WorkflowParams } from './workflow/create-workflow.js';
export type { MapConfig, MapSource } from './workflow/map-step.js';
export type { SerializedNode, SerializedStep } from './workflow/graph.js';
export type {
  AnySchema,
  CallbackInfo,
  ConditionContext,
  ConditionFn,
  ExecuteContext,
  Infer,
  InferInput,
  InitData,
  InnerOutput,
  Logger,
  SerializedError,
  Step,
  StepResult,
  StepTryView,
  StepStatus,
  StepWriter,
  SuspendOptions,
  WorkflowOptions,
  WorkflowResult,
  WorkflowResultBase,
} from './workflow/types.js';
export { Weft } from './run/weft.js';
export type { WeftOptions } from './run/weft.js';
export type {
  ScheduleCatchup,
  ScheduleOverlap,
  WorkflowScheduleConfig,
  WorkflowScheduleInput,
} from './schedule/declaration.js';
export type { SchedulerOptions } from './schedule/scheduler.js';
export type { ScheduleView, Schedules } from './schedule/schedules.js';
export type { Duration, RetentionOptions } from './run/retention.js';
export { RunHandle as Run } from './run/run.js';
export type {
  OutputOptions,
  ResumeArgs,
  RunListFilter,
  RunListPage,
  StartArgs,
  StepTarget,
  StreamArgs,
  TimeTravelArgs,
  WorkflowRunOutput,
  WorkflowRunView,
} from './workflow/run-types.js';
export type { Clock } from './engine/execution.js';
export type { TokenUsage, WatchEvent, WorkflowEvent, WorkflowEventType } from './events/event-types.js';
export { RequestContext } from './request-context.js';
export { MemoryStorage } from './storage/memory/memory-storage.js';
export type { EntryType as JournalEntryType } from './journal/entries.js';
export type {
  JournalEntry,
  NewRun,
  PruneFilter,
  RunChange,
  RunCondition,
  RunFilter,
  RunStatus,
  StoredRun,
  WeftStorage,
} from './storage/types.js';
export { WeftError, NonRetryableError } from './errors.js';
export type { WeftErrorCode } from './errors.js';

// The one wiring the package entry makes: a workflow that no `Weft` registered runs on a private in-memory
// instance (as Mastra's workflows without a Mastra), made when it is first used. No other module installs anything.
setDefaultHostFactory(privateHost);
