// The version of the installed weft package, read from its package.json (same place from src/ and dist/).
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The `version` of weft's package.json, or `"unknown"` when it cannot be read. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    cached = pkg.version ?? 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
