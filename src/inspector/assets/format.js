// Human forms of times, durations, ids and statuses for the inspector.

export const STATUS_LABEL = {
  pending: 'Pending',
  running: 'Running',
  waiting: 'Sleeping',
  suspended: 'Suspended',
  paused: 'Paused',
  success: 'Succeeded',
  failed: 'Failed',
  canceled: 'Canceled',
  bailed: 'Bailed',
  skipped: 'Skipped',
  'not-run': 'Not run',
};

/** Statuses after which a run does nothing until someone acts. */
export const SETTLED = ['success', 'failed', 'canceled', 'suspended', 'paused'];
/** Statuses in which a run is executing. */
export const ACTIVE = ['running', 'waiting', 'pending'];

/** `340 ms`, `1.2 s`, `2 min 5 s`, `3 h 10 min`. */
export function duration(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms) || ms < 0) return '';
  if (ms < 10 && ms > 0) return `${ms.toFixed(1).replace(/\.0$/, '')} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** `just now`, `12 s ago`, `5 min ago`, or a date. */
export function ago(value, now = Date.now()) {
  const t = new Date(value).getTime();
  if (Number.isNaN(t)) return '';
  const d = now - t;
  if (d < 5_000) return 'just now';
  if (d < 60_000) return `${Math.round(d / 1000)} s ago`;
  if (d < 3_600_000) return `${Math.round(d / 60_000)} min ago`;
  if (d < 86_400_000) return `${Math.round(d / 3_600_000)} h ago`;
  return dateTime(t);
}

/** `Jan 31, 14:02:07`. */
export function dateTime(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** `14:02:07.123`. */
export function clock(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** The first block of a UUID, or the id itself when short. */
export function shortId(id) {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(id) ? id.slice(0, 8) : id;
}

/** JSON on one line, cut. */
export function preview(value, max = 90) {
  if (value === undefined) return '';
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `Name: message` of a stored error. */
export function errorText(error) {
  if (!error) return '';
  if (typeof error === 'object' && 'message' in error)
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : String(error.message);
  return String(error);
}

/** A short duration for axis ticks: `850ms`, `1.2s`, `52s`, `2m35s`, `3h10m`. */
export function compactDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1).replace(/\.0$/, '') : Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')}s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(min / 60)}h${String(min % 60).padStart(2, '0')}m`;
}
