// RequestContext: a Map-like bag of per-request values that steps can read and extend.

/**
 * Values that travel with a run: set by the caller, read (and extended) by steps, kept across a
 * suspend and merged with what `resume` passes.
 *
 * @example
 * const rc = new RequestContext([['tenant', 'acme']]);
 * await run.start({ inputData, requestContext: rc });
 */
export class RequestContext<T extends Record<string, unknown> = Record<string, unknown>> {
  private readonly map: Map<string, unknown>;

  constructor(entries?: Iterable<readonly [string, unknown]> | Record<string, unknown>) {
    this.map = new Map(
      entries === undefined
        ? []
        : Symbol.iterator in Object(entries)
          ? (entries as Iterable<readonly [string, unknown]>)
          : Object.entries(entries as Record<string, unknown>),
    );
  }

  get<K extends keyof T & string>(key: K): T[K] | undefined {
    return this.map.get(key) as T[K] | undefined;
  }

  set<K extends keyof T & string>(key: K, value: T[K]): void {
    this.map.set(key, value);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  entries(): IterableIterator<[string, unknown]> {
    return this.map.entries();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  values(): IterableIterator<unknown> {
    return this.map.values();
  }

  forEach(fn: (value: unknown, key: string) => void): void {
    this.map.forEach((v, k) => fn(v, k));
  }

  get size(): number {
    return this.map.size;
  }

  // Mastra's request context has raw accessors beside the typed ones; its agents and tools call them.
  /** Same as `get`, for code written against Mastra's request context. */
  getRaw(key: string): unknown {
    return this.map.get(key);
  }

  /** Same as `set`, for code written against Mastra's request context. */
  setRaw(key: string, value: unknown): void {
    this.map.set(key, value);
  }

  /** Same as `has`, for code written against Mastra's request context. */
  hasRaw(key: string): boolean {
    return this.map.has(key);
  }

  /** Same as `delete`, for code written against Mastra's request context. */
  deleteRaw(key: string): boolean {
    return this.map.delete(key);
  }

  /** Every value as a plain object (Mastra's `all`). */
  get all(): Record<string, unknown> {
    return Object.fromEntries(this.map);
  }

  /** A plain object of the values, as stored with the run. */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.map);
  }

  [Symbol.iterator](): IterableIterator<[string, unknown]> {
    return this.map.entries();
  }
}
