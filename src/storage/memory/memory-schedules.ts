// The schedules of MemoryStorage: stored schedules and their fires, kept in maps.
import type {
  NewRun,
  RunStatus,
  ScheduleDefinition,
  ScheduleFire,
  ScheduleFireClaim,
  ScheduleStore,
  StoredSchedule,
} from '../types.js';
import { fireKeyOfRun } from '../fire-key.js';

type Fire = Omit<ScheduleFire, 'runStatus'>;

/** Schedules and fires in memory; runs are created and looked up through the store that owns them. */
export class MemorySchedules implements ScheduleStore {
  private readonly schedules = new Map<string, StoredSchedule>();
  /** Fires by schedule id, then by fire time. */
  private readonly fires = new Map<string, Map<number, Fire>>();

  constructor(
    private readonly insertRun: (run: NewRun) => void,
    private readonly runStatus: (runId: string) => RunStatus | null,
  ) {}

  async syncSchedules(
    workflowIds: readonly string[],
    schedules: readonly ScheduleDefinition[],
    at: number,
  ): Promise<void> {
    const declared = new Set(schedules.map((s) => s.scheduleId));
    for (const [id, row] of this.schedules) {
      if (workflowIds.includes(row.workflowId) && !declared.has(id)) this.schedules.delete(id);
    }
    for (const def of schedules) {
      const row = this.schedules.get(def.scheduleId);
      if (!row) {
        this.schedules.set(def.scheduleId, {
          ...def,
          paused: false,
          lastFireAt: null,
          lastRunId: null,
          createdAt: at,
          updatedAt: at,
        });
        continue;
      }
      const moved = row.cron !== def.cron || row.timezone !== def.timezone;
      Object.assign(row, {
        workflowId: def.workflowId,
        cron: def.cron,
        timezone: def.timezone,
        spec: def.spec,
        nextFireAt: moved ? def.nextFireAt : row.nextFireAt,
        updatedAt: at,
      });
    }
  }

  async listSchedules(filter: { workflowId?: string } = {}): Promise<StoredSchedule[]> {
    return [...this.schedules.values()]
      .filter((row) => filter.workflowId === undefined || row.workflowId === filter.workflowId)
      .sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : a.scheduleId > b.scheduleId ? 1 : 0))
      .map((row) => ({ ...row }));
  }

  async getSchedule(scheduleId: string): Promise<StoredSchedule | null> {
    const row = this.schedules.get(scheduleId);
    return row ? { ...row } : null;
  }

  async claimScheduleFire(claim: ScheduleFireClaim): Promise<boolean> {
    const row = this.schedules.get(claim.scheduleId);
    if (!row) return false;
    if (claim.advance && (row.paused || row.nextFireAt !== claim.advance.from)) return false;
    const { fire } = claim;
    let fires = this.fires.get(claim.scheduleId);
    if (fire && fires?.has(fire.fireAt)) return false;
    if (claim.advance) row.nextFireAt = claim.advance.to;
    row.updatedAt = claim.at;
    if (!fire) return true;
    if (!fires) this.fires.set(claim.scheduleId, (fires = new Map()));
    fires.set(fire.fireAt, { scheduleId: claim.scheduleId, ...fire, claimedAt: claim.at });
    this.insertRun({ runId: fire.runId, workflowId: row.workflowId, resourceId: null, createdAt: claim.at });
    row.lastFireAt = fire.fireAt;
    row.lastRunId = fire.runId;
    return true;
  }

  async setSchedulePaused(
    scheduleId: string,
    paused: boolean,
    nextFireAt: number | null,
    at: number,
  ): Promise<StoredSchedule | null> {
    const row = this.schedules.get(scheduleId);
    if (!row) return null;
    row.paused = paused;
    if (!paused) row.nextFireAt = nextFireAt;
    row.updatedAt = at;
    return { ...row };
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    return this.schedules.delete(scheduleId);
  }

  async listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFire[]> {
    return [...(this.fires.get(scheduleId)?.values() ?? [])]
      .sort((a, b) => b.fireAt - a.fireAt)
      .slice(0, limit)
      .map((fire) => ({ ...fire, runStatus: this.runStatus(fire.runId) }));
  }

  /** Deletes the fires that made these runs (deleted by retention). */
  deleteFiresOf(runIds: readonly string[]): void {
    for (const runId of runIds) {
      const key = fireKeyOfRun(runId);
      const fires = key && this.fires.get(key.scheduleId);
      if (fires?.get(key!.fireAt)?.runId === runId) fires.delete(key!.fireAt);
    }
  }

  /** The run ids of the schedule's fires, for `listRuns({ scheduleId })`. */
  runIdsOf(scheduleId: string): Set<string> {
    return new Set([...(this.fires.get(scheduleId)?.values() ?? [])].map((fire) => fire.runId));
  }
}
