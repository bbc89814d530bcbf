// The `--retention` option of `weft serve`: `success=7d,failed=30d,canceled=30d`.
import type { RetentionOptions } from '../run/retention.js';
import { parseDuration } from '../run/retention.js';
import { usageError } from './exit-codes.js';

const KEYS = { success: 'successAfter', failed: 'failedAfter', canceled: 'canceledAfter' } as const;

/** Parses `status=duration` pairs, comma-separated, into retention options; a usage error names what is wrong. */
export function parseRetentionOption(text: string): RetentionOptions {
  const options: RetentionOptions = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [status, duration, extra] = part.split('=').map((p) => p.trim());
    const key = KEYS[status as keyof typeof KEYS];
    if (!key || !duration || extra !== undefined) {
      throw usageError(
        `Invalid --retention "${part}": expected status=duration pairs for success, failed or canceled, e.g. --retention success=7d,failed=30d`,
      );
    }
    try {
      parseDuration(duration, `--retention ${status}`);
    } catch (error) {
      throw usageError((error as Error).message);
    }
    options[key] = duration;
  }
  if (Object.keys(options).length === 0) throw usageError('Invalid --retention "": give e.g. success=7d,failed=30d');
  return options;
}
