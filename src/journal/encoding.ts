// Journal entries as the engine hands them to storage: their JSON text is made when first read.
import type { JournalEntry } from '../storage/types.js';

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
export function entryValue(entry: JournalEntry): unknown {
  return entry instanceof DeferredEntry ? entry.parsed() : JSON.parse(entry.data);
}
