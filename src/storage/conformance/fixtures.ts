// Small builders and assertions shared by the storage conformance groups.
import { expect } from 'vitest';
import { WeftError } from '../../errors.js';
import type { WeftErrorCode } from '../../errors.js';
import type { JournalEntry, NewRun, RunStatus, StoredRun, WeftStorage } from '../types.js';

/** A storage under test and how to dispose of it. */
export interface StorageHarness {
  storage: WeftStorage;
  cleanup(): Promise<void>;
}

/** Makes a fresh, empty, not yet initialised storage for one test. */
export type StorageFactory = () => Promise<StorageHarness>;

/** Gives a conformance group the storage of the test that is running. */
export type CurrentStorage = () => WeftStorage;

/** A fixed base time, so tests never depend on the clock. */
export const T0 = 1_700_000_000_000;

/** A `NewRun` with defaults; `createdAt` defaults to T0. */
export function newRun(runId: string, fields: Partial<Omit<NewRun, 'runId'>> = {}): NewRun {
  return { runId, workflowId: 'wf', resourceId: null, createdAt: T0, ...fields };
}

/** One journal entry whose data names its seq, so misplaced entries are easy to spot. */
export function entry(seq: number, type = 'step-end', data?: string): JournalEntry {
  return { seq, type, data: data ?? JSON.stringify({ seq }), at: T0 + seq };
}

/** Entries `from..to`, both included. */
export function entries(from: number, to: number): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (let seq = from; seq <= to; seq++) out.push(entry(seq));
  return out;
}

/**
 * Entries `from..to` whose data is text a statement must carry exactly: quotes, backslashes, braces,
 * commas, a newline, non-ASCII and an astral character, the empty JSON object and a long string.
 */
export function awkwardEntries(from: number, to: number): JournalEntry[] {
  const texts = [
    '{"q":"\\"quoted\\" and \\\\ back"}',
    '{"array":"{1,2},{\\"a\\"}","nul":null}',
    '{"line":"a\\nb\\tc","uni":"été 東京 😀"}',
    '{}',
    JSON.stringify({ long: 'x'.repeat(5000) }),
  ];
  const out: JournalEntry[] = [];
  for (let seq = from; seq <= to; seq++)
    out.push(entry(seq, seq % 2 ? 'step-start' : 'step-end', texts[seq % texts.length]));
  return out;
}

/** Seqs of the entries, in the order given. */
export function seqs(list: readonly JournalEntry[]): number[] {
  return list.map((e) => e.seq);
}

/** What `claimRun` sets besides the status. */
export interface ClaimOptions {
  status?: RunStatus;
  owner?: string | null;
  leaseExpiresAt?: number | null;
  updatedAt?: number;
}

/**
 * Creates the run (if needed) and moves it to `status` (default `running`) with a bumped
 * epoch, the way the engine claims a run. Returns the claimed row.
 */
export async function claimRun(storage: WeftStorage, runId: string, options: ClaimOptions = {}): Promise<StoredRun> {
  await storage.createRun(newRun(runId));
  const row = await storage.updateRun(
    runId,
    {},
    {
      status: options.status ?? 'running',
      leaseOwner: options.owner === undefined ? 'owner-a' : options.owner,
      leaseExpiresAt: options.leaseExpiresAt === undefined ? T0 + 30_000 : options.leaseExpiresAt,
      updatedAt: options.updatedAt ?? T0 + 1,
      bumpEpoch: true,
    },
  );
  if (!row) throw new Error(`claimRun: updateRun of "${runId}" returned null`);
  return row;
}

/** Asserts that `promise` rejects with a `WeftError` of the given code, and returns it. */
export async function expectWeftError(promise: Promise<unknown>, code: WeftErrorCode): Promise<WeftError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a WeftError "${code}", but the promise resolved`).toBeDefined();
  expect(WeftError.is(caught), `expected a WeftError, got ${String(caught)}`).toBe(true);
  expect((caught as WeftError).code).toBe(code);
  return caught as WeftError;
}
