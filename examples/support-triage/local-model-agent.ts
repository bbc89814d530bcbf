// A deterministic stand-in for a Mastra Agent: same shape (id, name, stream, generate), answers from rules,
// streams word by word with Mastra's chunk types. No network, no key. See README.md here to plug a real model in.
import { randomUUID } from 'node:crypto';

/** What `stream()` is called with by an agent step. */
export interface StreamOptions {
  abortSignal?: AbortSignal;
  requestContext?: { get(key: string): unknown };
  onFinish?: (result: unknown) => unknown;
}

/** The part of a Mastra stream chunk an agent step relays: type, the agent run id, `from: 'AGENT'`, payload. */
export interface Chunk {
  type: string;
  runId: string;
  from: 'AGENT';
  payload: Record<string, unknown>;
}

export interface LocalAgentOptions {
  id: string;
  description: string;
  modelId: string;
  /** The answer to a prompt. */
  answer: (prompt: string) => string;
  /** Pause between words, so a watcher sees the text arrive (ms). */
  wordDelayMs?: number;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Rough token count (about four characters a token), so the usage shown is plausible. */
const tokensOf = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/**
 * An agent with the shape of Mastra's `Agent` that Weft's `createStep(agent)` runs: `stream(prompt,
 * options)` gives `{ fullStream, text, usage, finishReason }` and calls `options.onFinish` with the
 * usage and model, as Mastra's does.
 */
export function localAgent(options: LocalAgentOptions) {
  const delay = options.wordDelayMs ?? 50;
  return {
    id: options.id,
    name: options.id,
    getDescription: () => options.description,
    async generate(prompt: string) {
      return { text: options.answer(prompt) };
    },
    async stream(prompt: string, streamOptions: StreamOptions = {}) {
      const runId = randomUUID();
      const text = options.answer(prompt);
      const usage = { inputTokens: tokensOf(prompt), outputTokens: tokensOf(text), totalTokens: 0 };
      usage.totalTokens = usage.inputTokens + usage.outputTokens;
      const model = { modelId: options.modelId, provider: 'local' };
      const chunk = (type: string, payload: Record<string, unknown> = {}): Chunk => ({
        type,
        runId,
        from: 'AGENT',
        payload,
      });
      let settle!: { resolve: (text: string) => void; reject: (error: unknown) => void };
      const done = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
      done.catch(() => undefined);
      const fullStream = new ReadableStream<Chunk>({
        async start(controller) {
          try {
            controller.enqueue(chunk('start', { id: options.id }));
            controller.enqueue(chunk('step-start', {}));
            controller.enqueue(chunk('text-start', { id: 'text-1' }));
            for (const word of text.split(/(?<= )/)) {
              await sleep(delay, streamOptions.abortSignal);
              controller.enqueue(chunk('text-delta', { id: 'text-1', text: word }));
            }
            controller.enqueue(chunk('text-end', { id: 'text-1' }));
            const finish = { stepResult: { reason: 'stop' }, output: { usage }, metadata: { modelId: model.modelId } };
            controller.enqueue(chunk('step-finish', finish));
            controller.enqueue(chunk('finish', finish));
            await streamOptions.onFinish?.({ text, usage, finishReason: 'stop', model });
            controller.close();
            settle.resolve(text);
          } catch (error) {
            controller.error(error);
            settle.reject(error);
          }
        },
      });
      return {
        fullStream,
        text: done,
        usage: done.then(() => usage),
        finishReason: done.then(() => 'stop'),
      };
    },
  };
}
