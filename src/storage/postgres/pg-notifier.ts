// Live journal notifications across processes: Postgres LISTEN/NOTIFY on one dedicated connection.
import { randomUUID } from 'node:crypto';
import type { Client, ClientConfig, Notification } from 'pg';
import pg from './pg-driver.js';
import type { JournalNotifier } from '../types.js';

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;
/** A follow row lasts this long unless renewed (every third of it while the run is followed). */
const FOLLOW_TTL_MS = 60_000;

/** Where a notifier records which runs it follows: writers notify only for followed runs. */
export interface FollowStore {
  /** Records (or renews) that `follower` follows these runs until `expiresAt`; drops expired rows. */
  follow(runIds: readonly string[], follower: string, expiresAt: number): Promise<void>;
  /** `follower` no longer follows these runs (all of its runs when `runIds` is null). */
  unfollow(runIds: readonly string[] | null, follower: string): Promise<void>;
}

/**
 * Follows the schema's notification channel (payload: a run id) on one connection of its own,
 * opened at the first `subscribe` and kept until `close()`. Listeners are called after entries
 * of their run were committed, by any process. They are also called once whenever listening
 * (re)starts, since entries may have been committed while nobody listened: a reader re-reads
 * its journal after its last seq on every call, so an extra call is harmless and none is lost.
 *
 * Writers notify only for runs that somebody follows (the `followed` table): the first listener of
 * a run records it, renewed while it listens, and the last one to leave removes it. Listeners are
 * called once more when the row is stored, so entries committed before it are read too.
 */
export class PgJournalNotifier implements JournalNotifier {
  private readonly listeners = new Map<string, Set<() => void>>();
  private client: Client | undefined;
  private listening: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private closed = false;

  /**
   * The listeners of each signal channel: released leases (payload empty), and the step attempts
   * dispatched (payload empty) and finished (payload: the run id) for workers that fan runs out.
   */
  private readonly signals = new Map<string, Set<(payload: string) => void>>();
  /** The channel of released leases. */
  private readonly releases: string;

  /** This notifier's name in the `followed` table. */
  private readonly follower = randomUUID();
  /** Follow rows being written: `ready()` waits for them. */
  private following: Promise<void> = Promise.resolve();
  private renewTimer: NodeJS.Timeout | undefined;

  /**
   * `channel` is the exact channel name, which `LISTEN` gets quoted; `send` sends a NOTIFY (on any
   * connection); `follows` records the runs followed.
   */
  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly send: (channel: string) => Promise<void>,
    private readonly follows: FollowStore,
  ) {
    this.releases = `${channel}:released`;
    for (const name of [this.releases, `${channel}:dispatched`, `${channel}:attempted`, `${channel}:withdrawn`])
      this.signals.set(name, new Set());
  }

  announceRelease(): Promise<void> {
    return this.send(this.releases);
  }

  subscribeReleases(listener: () => void): () => void {
    return this.subscribeSignal(this.releases, listener);
  }

  /**
   * Calls `listener` with the payload of each notification on a signal channel (`<channel>:released`,
   * `:dispatched`, `:attempted`, `:withdrawn`), and once with an empty payload whenever listening (re)starts.
   */
  subscribeSignal(channel: string, listener: (payload: string) => void): () => void {
    const set = this.signals.get(channel);
    if (!set) throw new Error(`No signal channel "${channel}"`);
    set.add(listener);
    this.ready().catch(() => undefined);
    return () => void set.delete(listener);
  }

  private hasSignalListeners(): boolean {
    for (const set of this.signals.values()) if (set.size > 0) return true;
    return false;
  }

  subscribe(runId: string, listener: () => void): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      this.listeners.set(runId, (set = new Set()));
      this.follow([runId]);
    }
    set.add(listener);
    this.ready().catch(() => undefined);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(runId) === set) {
        this.listeners.delete(runId);
        if (!this.closed) this.follows.unfollow([runId], this.follower).catch(() => undefined);
      }
    };
  }

  /** Resolves once the connection listens (connecting if needed) and the runs followed are recorded; rejects if it cannot connect now. */
  async ready(): Promise<void> {
    if (this.closed) throw new Error('The Postgres journal notifier is closed');
    this.listening ??= this.listen();
    await this.listening;
    await this.following;
  }

  /** Records the runs as followed (renewing them every third of the TTL), then calls their listeners once. */
  private follow(runIds: readonly string[]): void {
    const written = this.follows.follow(runIds, this.follower, Date.now() + FOLLOW_TTL_MS).then(
      () => {
        for (const runId of runIds) this.call(runId);
      },
      () => undefined, // the slow poll of readers covers a follow that could not be stored
    );
    this.following = this.following.then(() => written);
    if (!this.renewTimer) {
      this.renewTimer = setInterval(() => {
        if (this.listeners.size > 0) this.follow([...this.listeners.keys()]);
      }, FOLLOW_TTL_MS / 3);
      this.renewTimer.unref();
    }
  }

  /** Ends the connection; listeners are no longer called. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.renewTimer);
    const followed = this.listeners.size > 0;
    this.listeners.clear();
    if (followed) await this.following.then(() => this.follows.unfollow(null, this.follower)).catch(() => undefined);
    for (const set of this.signals.values()) set.clear();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (message: Notification) => this.deliver(message));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query([this.channel, ...this.signals.keys()].map((name) => `LISTEN "${name}"`).join('; '));
    } catch (error) {
      this.lost(client);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelay = RECONNECT_MIN_MS;
    for (const runId of [...this.listeners.keys()]) this.call(runId);
    for (const set of this.signals.values()) for (const listener of [...set]) listener('');
  }

  private deliver(message: Notification): void {
    if (message.channel === this.channel && message.payload) this.call(message.payload);
    else {
      const set = this.signals.get(message.channel);
      if (set) for (const listener of [...set]) listener(message.payload ?? '');
    }
  }

  private call(runId: string): void {
    const set = this.listeners.get(runId);
    if (set) for (const listener of [...set]) listener();
  }

  /** A connection failed or ended: unless a newer one is active, forget it and, while someone listens, connect again later. */
  private lost(client: Client): void {
    client.end().catch(() => undefined);
    if (this.closed || (this.client !== undefined && this.client !== client)) return;
    this.client = undefined;
    this.listening = undefined;
    if (this.reconnectTimer || (this.listeners.size === 0 && !this.hasSignalListeners())) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.ready().catch(() => undefined);
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }
}
