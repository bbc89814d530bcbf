// The prepared SQLite statements of schedules and their fires, and the schedule operations built on them.
import type { Database, Statement } from 'better-sqlite3';
import type { RunStatus, ScheduleDefinition, ScheduleFire, ScheduleFireClaim, StoredSchedule } from '../types.js';

const SCHEDULE_COLUMNS = `schedule_id AS scheduleId, workflow_id AS workflowId, cron, timezone, spec, paused,
  next_fire_at AS nextFireAt, last_fire_at AS lastFireAt, last_run_id AS lastRunId,
  created_at AS createdAt, updated_at AS updatedAt`;

/** A schedules row as read: `paused` is 0 or 1. */
type ScheduleRow = Omit<StoredSchedule, 'paused'> & { paused: number };
type FireRow = Omit<ScheduleFire, 'manual'> & { manual: number };

function toSchedule(row: ScheduleRow): StoredSchedule {
  return { ...row, paused: row.paused === 1 };
}

/** The schedule statements on one connection. Writes run inside the caller's transaction (the group commit). */
export class SqliteSchedules {
  private readonly upsert: Statement<[ScheduleDefinition & { at: number }]>;
  private readonly prune: Statement<[{ workflows: string; kept: string }]>;
  private readonly list: Statement<[], ScheduleRow>;
  private readonly listOf: Statement<[string], ScheduleRow>;
  private readonly get: Statement<[string], ScheduleRow>;
  private readonly fireExists: Statement<[string, number], number>;
  private readonly advance: Statement<[number | null, number, string]>;
  private readonly recordFire: Statement<[string, number, string, number, number]>;
  private readonly recordLast: Statement<[number, string, number, string]>;
  private readonly insertRun: Statement<[string, string, number, number]>;
  private readonly pause: Statement<[{ paused: number; next: number | null; at: number; id: string }], ScheduleRow>;
  private readonly remove: Statement<[string]>;
  private readonly fires: Statement<[string, number], FireRow>;

  constructor(db: Database) {
    this.upsert = db.prepare(
      `INSERT INTO schedules (schedule_id, workflow_id, cron, timezone, spec, next_fire_at, created_at, updated_at)
       VALUES (@scheduleId, @workflowId, @cron, @timezone, @spec, @nextFireAt, @at, @at)
       ON CONFLICT (schedule_id) DO UPDATE SET
         workflow_id = excluded.workflow_id, cron = excluded.cron, timezone = excluded.timezone, spec = excluded.spec,
         next_fire_at = CASE WHEN schedules.cron = excluded.cron AND schedules.timezone IS excluded.timezone
                             THEN schedules.next_fire_at ELSE excluded.next_fire_at END,
         updated_at = excluded.updated_at`,
    );
    this.prune = db.prepare(
      `DELETE FROM schedules WHERE workflow_id IN (SELECT value FROM json_each(@workflows))
         AND schedule_id NOT IN (SELECT value FROM json_each(@kept))`,
    );
    this.list = db.prepare(`SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY schedule_id`);
    this.listOf = db.prepare(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE workflow_id = ? ORDER BY schedule_id`);
    this.get = db.prepare(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE schedule_id = ?`);
    this.fireExists = db
      .prepare<[string, number], number>('SELECT 1 FROM schedule_fires WHERE schedule_id = ? AND fire_at = ?')
      .pluck();
    this.advance = db.prepare('UPDATE schedules SET next_fire_at = ?, updated_at = ? WHERE schedule_id = ?');
    this.recordFire = db.prepare(
      'INSERT INTO schedule_fires (schedule_id, fire_at, run_id, manual, claimed_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.recordLast = db.prepare(
      'UPDATE schedules SET last_fire_at = ?, last_run_id = ?, updated_at = ? WHERE schedule_id = ?',
    );
    this.insertRun = db.prepare(
      `INSERT INTO runs (run_id, workflow_id, resource_id, status, epoch, created_at, updated_at)
       VALUES (?, ?, NULL, 'pending', 0, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
    );
    this.pause = db.prepare(
      `UPDATE schedules SET paused = @paused, next_fire_at = CASE WHEN @paused THEN next_fire_at ELSE @next END,
         updated_at = @at
       WHERE schedule_id = @id RETURNING ${SCHEDULE_COLUMNS}`,
    );
    this.remove = db.prepare('DELETE FROM schedules WHERE schedule_id = ?');
    this.fires = db.prepare(
      `SELECT f.schedule_id AS scheduleId, f.fire_at AS fireAt, f.run_id AS runId, f.manual, f.claimed_at AS claimedAt,
              r.status AS runStatus
       FROM schedule_fires f LEFT JOIN runs r ON r.run_id = f.run_id
       WHERE f.schedule_id = ? ORDER BY f.fire_at DESC LIMIT ?`,
    );
  }

  /** `syncSchedules`, inside the caller's transaction. */
  sync(workflowIds: readonly string[], schedules: readonly ScheduleDefinition[], at: number): void {
    this.prune.run({
      workflows: JSON.stringify(workflowIds),
      kept: JSON.stringify(schedules.map((s) => s.scheduleId)),
    });
    for (const s of schedules) this.upsert.run({ ...s, at });
  }

  listSchedules(workflowId: string | undefined): StoredSchedule[] {
    return (workflowId === undefined ? this.list.all() : this.listOf.all(workflowId)).map(toSchedule);
  }

  getSchedule(scheduleId: string): StoredSchedule | null {
    const row = this.get.get(scheduleId);
    return row ? toSchedule(row) : null;
  }

  /** `claimScheduleFire`, inside the caller's transaction: every condition is checked before anything is written. */
  claim(claim: ScheduleFireClaim): boolean {
    const row = this.get.get(claim.scheduleId);
    if (!row) return false;
    const { advance, fire } = claim;
    if (advance && (row.paused === 1 || row.nextFireAt !== advance.from)) return false;
    if (fire && this.fireExists.get(claim.scheduleId, fire.fireAt) !== undefined) return false;
    if (advance) this.advance.run(advance.to, claim.at, claim.scheduleId);
    if (!fire) return true;
    this.recordFire.run(claim.scheduleId, fire.fireAt, fire.runId, fire.manual ? 1 : 0, claim.at);
    this.insertRun.run(fire.runId, row.workflowId, claim.at, claim.at);
    this.recordLast.run(fire.fireAt, fire.runId, claim.at, claim.scheduleId);
    return true;
  }

  setPaused(scheduleId: string, paused: boolean, nextFireAt: number | null, at: number): StoredSchedule | null {
    const row = this.pause.get({ paused: paused ? 1 : 0, next: nextFireAt, at, id: scheduleId });
    return row ? toSchedule(row) : null;
  }

  delete(scheduleId: string): boolean {
    return this.remove.run(scheduleId).changes > 0;
  }

  listFires(scheduleId: string, limit: number): ScheduleFire[] {
    return this.fires.all(scheduleId, limit).map((row) => ({
      ...row,
      manual: row.manual === 1,
      runStatus: (row.runStatus as RunStatus | null) ?? null,
    }));
  }
}
