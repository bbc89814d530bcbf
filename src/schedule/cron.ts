// Cron expressions (5, 6 or 7 parts) and IANA timezones, through croner: validation and the fire times they give.
import { Cron } from 'croner';

/** Why a cron expression or timezone is refused, or null when both are valid. */
export function cronProblem(cron: unknown, timezone: unknown): string | null {
  if (typeof cron !== 'string' || cron.trim() === '') {
    return `Invalid cron expression: expected a non-empty cron string (e.g. "0 * * * *"), but received ${cron === undefined ? 'undefined' : JSON.stringify(cron)}`;
  }
  try {
    new Cron(cron).nextRun();
  } catch (error) {
    return `Invalid cron expression "${cron}": ${(error as Error).message}`;
  }
  if (timezone === undefined) return null;
  if (typeof timezone !== 'string' || timezone.trim() === '') {
    return `Invalid timezone ${JSON.stringify(timezone)}: expected an IANA name such as "Europe/Paris"`;
  }
  try {
    new Cron(cron, { timezone }).nextRun();
  } catch (error) {
    return `Invalid timezone "${timezone}": ${(error as Error).message}`;
  }
  return null;
}

/** The first fire time of `cron` strictly after `after` (epoch ms), or null when it never fires again. */
export function nextFireAfter(cron: string, timezone: string | null, after: number): number | null {
  const next = new Cron(cron, timezone === null ? {} : { timezone }).nextRun(new Date(after));
  return next ? next.getTime() : null;
}

/**
 * The fire times of `cron` from `from` (included, when it is one) to `to` (included), oldest first,
 * at most `limit` of them.
 */
export function fireTimesBetween(
  cron: string,
  timezone: string | null,
  from: number,
  to: number,
  limit: number,
): number[] {
  const job = new Cron(cron, timezone === null ? {} : { timezone });
  const times: number[] = [];
  let next = job.nextRun(new Date(from - 1));
  while (next && next.getTime() <= to && times.length < limit) {
    times.push(next.getTime());
    next = job.nextRun(next);
  }
  return times;
}
