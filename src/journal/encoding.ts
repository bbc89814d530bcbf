// Journal entries to and from storage: their JSON text is made when first read; stored entries are
// checked for their type and format version as they are read back.
import { WeftError } from '../errors.js';
import type { JournalEntry } from '../storage/types.js';
import { isEntryType, JOURNAL_FORMAT, type EntryDataMap, type EntryType } from './entries.js';

/** JSON text of a value; BigInts become strings and cycles `"[Circular]"` rather than lose the entry. */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    const seen = new WeakSet();
    return JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    });
  }
}

/**
 * An entry the engine wrote, holding its data as a value until its text is first read. A durable
 * adapter reads `data` as it writes the entry; the memory store keeps the entry itself and makes
 * the text only when somebody reads the journal, so entries nobody reads cost no serialization.
 */
export class DeferredEntry implements JournalEntry {
  private text: string | undefined;

  constructor(
    readonly seq: number,
    readonly type: string,
    private value: unknown,
    readonly at: number,
    /** The value's text when the caller made it already. */
    text?: string,
  ) {
    this.text = text;
    if (text !== undefined) this.value = undefined;
  }

  get data(): string {
    if (this.text === undefined) {
      this.text = toJson(this.value);
      this.value = undefined;
    }
    return this.text;
  }

  /** The JSON text if it was made already (given, or read through `data`); otherwise the value is `parsed()`. */
  get madeText(): string | undefined {
    return this.text;
  }

  /**
   * The data as a value: the one recorded while its text was never made (no parse, and the same
   * objects a memory store holds), else parsed from the text.
   */
  parsed(): unknown {
    return this.text === undefined ? this.value : JSON.parse(this.text);
  }
}

/** An entry's data as a value, without a serialize-and-parse round trip for the engine's own entries. */
function entryValue(entry: JournalEntry): unknown {
  return entry instanceof DeferredEntry ? entry.parsed() : JSON.parse(entry.data);
}

/** A stored entry as the journal reads it: a type of this format, and its data as a value. */
export interface ReadEntry<T extends EntryType = EntryType> {
  seq: number;
  type: T;
  data: EntryDataMap[T];
  at: number;
}

/**
 * Reads a stored entry of run `runId`: checks that its type is one this Weft knows, in a format it
 * reads (see `JOURNAL_FORMAT`), and gives its data as a value. An entry of a later format, or of an
 * unknown type, is refused with `JOURNAL_FORMAT_UNSUPPORTED` rather than misread.
 */
export function readEntry(entry: JournalEntry, runId: string): ReadEntry {
  const { type } = entry;
  if (!isEntryType(type)) throw unsupportedEntry(entry, runId);
  return { seq: entry.seq, type, data: entryValue(entry) as EntryDataMap[EntryType], at: entry.at };
}

function unsupportedEntry(entry: JournalEntry, runId: string): WeftError {
  const at = entry.type.lastIndexOf('@');
  const version = at < 0 ? NaN : Number(entry.type.slice(at + 1));
  const base = at < 0 ? entry.type : entry.type.slice(0, at);
  const what =
    Number.isInteger(version) && version > JOURNAL_FORMAT && isEntryType(base)
      ? `is of journal format ${version} (type "${entry.type}"), and this version of Weft reads format ${JOURNAL_FORMAT} at most`
      : `has type "${entry.type}", which is no entry type of journal format ${JOURNAL_FORMAT}`;
  return new WeftError(
    'JOURNAL_FORMAT_UNSUPPORTED',
    `Cannot read entry ${entry.seq} of run "${runId}": it ${what}; it was written by a newer version of Weft, so read the run with that version`,
    { runId },
  );
}
