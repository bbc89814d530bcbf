// Short human forms of values for the terminal: durations, times, JSON previews.

/** `1.2 s`, `340 ms`, `2 min 5 s`, `3 h 10 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** `2025-01-31 14:02:07` in local time. */
export function formatTime(value: Date | number | string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

/** `12 s ago`, `5 min ago`, `3 h ago`, or the date for older times. */
export function formatAgo(value: Date | number | string, now = Date.now()): string {
  const time = new Date(value).getTime();
  if (Number.isNaN(time)) return '';
  const diff = now - time;
  if (diff < 0) return formatTime(time);
  if (diff < 60_000) return `${Math.max(0, Math.round(diff / 1000))} s ago`;
  if (diff < 3_600_000) return `${Math.round(diff / 60_000)} min ago`;
  if (diff < 86_400_000) return `${Math.round(diff / 3_600_000)} h ago`;
  return formatTime(time);
}

/** JSON on one line, cut to `max` characters. */
export function previewJson(value: unknown, max = 80): string {
  if (value === undefined) return '';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The message of a stored error record (or of anything thrown). */
export function errorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const name = (error as { name?: unknown }).name;
    const message = String((error as { message: unknown }).message);
    return typeof name === 'string' && name !== 'Error' ? `${name}: ${message}` : message;
  }
  return String(error);
}
