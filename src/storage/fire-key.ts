// The fire a scheduled run was made by, read from the run's id: retention deletes the fire with its run.

/** The (schedule, fire time) key a fire's run id names (`sched_<scheduleId>_<fireAt>`), or null for another id. */
export function fireKeyOfRun(runId: string): { scheduleId: string; fireAt: number } | null {
  const match = /^sched_(.+)_(\d+)$/.exec(runId);
  return match ? { scheduleId: match[1]!, fireAt: Number(match[2]) } : null;
}
