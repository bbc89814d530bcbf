// Run ids: random (version 4) UUIDs, made as one flat string, and the check of ids that callers choose.
import { randomFillSync } from 'node:crypto';
import { WeftError } from '../errors.js';

/** Random bytes for this many ids are drawn at once. */
const IDS_PER_DRAW = 128;

const random = Buffer.alloc(16 * IDS_PER_DRAW);
let used = IDS_PER_DRAW;
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes goes in `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
text.write('-', 8, 'latin1');
text.write('-', 13, 'latin1');
text.write('-', 18, 'latin1');
text.write('-', 23, 'latin1');

/**
 * A new run id: a random UUID like `crypto.randomUUID()` makes, but as a single flat string. Node
 * assembles `randomUUID()` by concatenation, a tree of a dozen string objects that a run id would
 * keep alive for as long as its run is kept: about 450 bytes, and as many objects for the garbage
 * collector to copy.
 */
export function newRunId(): string {
  if (used === IDS_PER_DRAW) {
    randomFillSync(random);
    used = 0;
  }
  const base = 16 * used++;
  random[base + 6] = (random[base + 6]! & 0x0f) | 0x40; // version 4
  random[base + 8] = (random[base + 8]! & 0x3f) | 0x80; // RFC 4122 variant
  for (let i = 0; i < 16; i++) {
    const byte = random[base + i]!;
    text[AT[i]!] = HEX[byte >> 4]!;
    text[AT[i]! + 1] = HEX[byte & 15]!;
  }
  return text.toString('latin1', 0, 36);
}

/** The longest run id a caller may choose (in UTF-16 code units, as `String.length` counts). */
const MAX_RUN_ID_LENGTH = 256;

/** Control characters (C0, DEL, C1) and lone surrogates: they cannot be shown, typed or stored as UTF-8. */
const UNSAFE_CHARACTER =
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks a run id chosen by a caller (`createRun({ runId })`, the HTTP API, the CLI): a non-empty
 * string of at most 256 characters, without control characters or lone surrogates. Throws
 * `INVALID_ARGUMENT` naming what is wrong (never echoing a huge id whole).
 */
export function checkRunId(runId: unknown): asserts runId is string {
  if (typeof runId !== 'string') {
    throw new WeftError('INVALID_ARGUMENT', `Invalid run id: expected a string, got ${typeof runId}`);
  }
  if (runId.length === 0) throw new WeftError('INVALID_ARGUMENT', 'Invalid run id: it is empty');
  if (runId.length > MAX_RUN_ID_LENGTH) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Invalid run id "${runId.slice(0, 32)}…": it has ${runId.length} characters, at most ${MAX_RUN_ID_LENGTH} are allowed`,
    );
  }
  const bad = UNSAFE_CHARACTER.exec(runId);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Invalid run id ${JSON.stringify(runId.length > 64 ? `${runId.slice(0, 64)}…` : runId)}: character U+${code} at position ${bad.index} is not allowed (no control characters or lone surrogates)`,
    );
  }
}
