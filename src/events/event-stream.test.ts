import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { EventStream } from './event-stream.js';
import type { WorkflowEvent } from './event-types.js';

const event = (seq: number): WorkflowEvent => ({ type: 'workflow-step-start', runId: 'r1', from: 'WORKFLOW', seq });

async function seqsOf(iterable: AsyncIterable<WorkflowEvent>, stopAfter = Infinity): Promise<number[]> {
  const seqs: number[] = [];
  for await (const e of iterable) {
    seqs.push(e.seq);
    if (seqs.length >= stopAfter) break;
  }
  return seqs;
}

describe('EventStream', () => {
  it('for await gets events queued before and pushed during the read, then ends and releases the stream', async () => {
    const events = new EventStream(() => undefined);
    events.push(event(1));
    const read = seqsOf(events.stream);
    expect(events.stream.locked).toBe(true);
    await Promise.resolve();
    events.push(event(2));
    events.push(event(3));
    events.end();
    events.push(event(4));
    expect(await read).toEqual([1, 2, 3]);
    expect(events.stream.locked).toBe(false);
    expect(await events.stream.getReader().read()).toEqual({ done: true, value: undefined });
  });

  it('a reader taken with getReader() waits for pushes and sees the end', async () => {
    const events = new EventStream(() => undefined);
    const reader = events.stream.getReader();
    const first = reader.read();
    events.push(event(1));
    expect((await first).value?.seq).toBe(1);
    events.push(event(2));
    events.end();
    expect((await reader.read()).value?.seq).toBe(2);
    expect((await reader.read()).done).toBe(true);
  });

  it('breaking out of for await cancels the stream, as for a native web stream', async () => {
    const onCancel = vi.fn();
    const events = new EventStream(onCancel);
    for (let i = 1; i <= 3; i++) events.push(event(i));
    expect(await seqsOf(events.stream, 1)).toEqual([1]);
    expect(onCancel).toHaveBeenCalledOnce();
    expect(events.stream.locked).toBe(false);
  });

  it('with preventCancel, what was not read stays for the next reader', async () => {
    const onCancel = vi.fn();
    const events = new EventStream(onCancel);
    for (let i = 1; i <= 3; i++) events.push(event(i));
    const values = (events.stream as unknown as { values(o: object): AsyncIterable<WorkflowEvent> }).values({
      preventCancel: true,
    });
    expect(await seqsOf(values, 1)).toEqual([1]);
    events.end();
    expect(onCancel).not.toHaveBeenCalled();
    expect(await seqsOf(events.stream)).toEqual([2, 3]);
  });

  it('for await after a reader left pulled events unread gets those first', async () => {
    const events = new EventStream(() => undefined);
    for (let i = 1; i <= 3; i++) events.push(event(i));
    const reader = events.stream.getReader();
    expect((await reader.read()).value?.seq).toBe(1);
    reader.releaseLock();
    events.end();
    expect(await seqsOf(events.stream)).toEqual([2, 3]);
  });

  it('refuses a second reader while one holds the stream', () => {
    const events = new EventStream(() => undefined);
    void seqsOf(events.stream);
    expect(() => events.stream.getReader()).toThrow();
    expect(events.stream).toBeInstanceOf(ReadableStream);
  });

  it('while for await holds the stream, pipeTo, tee and cancel are refused as on a locked stream', async () => {
    const events = new EventStream(() => undefined);
    const iterator = events.stream[Symbol.asyncIterator]();
    expect(events.stream.locked).toBe(true);
    await expect(events.stream.pipeTo(new WritableStream())).rejects.toThrow(TypeError);
    await expect(events.stream.cancel()).rejects.toThrow(TypeError);
    expect(() => events.stream.tee()).toThrow(TypeError);
    expect(() => events.stream[Symbol.asyncIterator]()).toThrow(TypeError);
    await iterator.return!();
    expect(events.stream.locked).toBe(false);
  });

  it('return() while next() waits ends that next() and lets the stream go', async () => {
    const onCancel = vi.fn();
    const events = new EventStream(onCancel);
    const iterator = events.stream[Symbol.asyncIterator]();
    const waiting = iterator.next();
    await iterator.return!();
    expect(await waiting).toEqual({ done: true, value: undefined });
    events.push(event(1));
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(onCancel).toHaveBeenCalledOnce();
  });

  it('serves as a Response body through a TextEncoderStream, as a server relaying it would', async () => {
    const events = new EventStream(() => undefined);
    events.push(event(1));
    events.push(event(2));
    events.end();
    const text = events.stream.pipeThrough(
      new TransformStream<WorkflowEvent, string>({ transform: (e, c) => c.enqueue(`${e.seq}\n`) }),
    );
    expect(await new Response(text.pipeThrough(new TextEncoderStream())).text()).toBe('1\n2\n');
  });

  it('a waiting reader gets every event pushed in one burst, in order, and the end after them', async () => {
    const events = new EventStream(() => undefined);
    const read = seqsOf(events.stream);
    await Promise.resolve(); // the reader now waits
    for (let i = 1; i <= 5; i++) events.push(event(i));
    events.end(); // in the same burst: the queued events still come first
    expect(await read).toEqual([1, 2, 3, 4, 5]);
    expect(events.stream.locked).toBe(false);
  });

  it('is a web stream to Node itself: Readable.fromWeb reads it', async () => {
    const events = new EventStream(() => undefined);
    events.push(event(1));
    events.push(event(2));
    events.end();
    const seqs: number[] = [];
    for await (const e of Readable.fromWeb(events.stream as never, { objectMode: true })) {
      seqs.push((e as WorkflowEvent).seq);
    }
    expect(seqs).toEqual([1, 2]);
  });

  it('next() calls made without awaiting each other get the events in call order', async () => {
    const events = new EventStream(() => undefined);
    const iterator = events.stream[Symbol.asyncIterator]();
    const calls = [iterator.next(), iterator.next(), iterator.next()];
    events.push(event(1));
    events.push(event(2));
    events.end();
    expect(await Promise.all(calls)).toEqual([
      { done: false, value: event(1) },
      { done: false, value: event(2) },
      { done: true, value: undefined },
    ]);
  });

  it('a reader that never read sees the stream closed once it ends', async () => {
    const events = new EventStream(() => undefined);
    const reader = events.stream.getReader();
    events.end();
    await expect(reader.closed).resolves.toBeUndefined();
  });
});
