// A language model of the AI SDK's v2 shape that answers from a script, for driving a real Mastra Agent with no network.

export interface MockModelOptions {
  /** The answer, streamed in pieces of `pieceLength` characters. */
  text?: string;
  /** The answer of call `n` (from 0), instead of `text`. */
  answer?: (call: number) => string;
  pieceLength?: number;
  modelId?: string;
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number };
  /** Awaited before each text piece (index from 0): a test holds the model there. */
  beforePiece?: (index: number) => Promise<void> | void;
  /** Called at each model call, with its options (prompt, abortSignal, ...). */
  onCall?: (options: any) => void;
  /** Thrown by the model call. */
  fail?: (call: number) => Error | undefined;
}

/** A `LanguageModelV2` (`specificationVersion: 'v2'`, `doStream`) following `options`. */
export function mockModel(options: MockModelOptions = {}) {
  const modelId = options.modelId ?? 'mock-1';
  const size = options.pieceLength ?? 3;
  let calls = 0;
  return {
    specificationVersion: 'v2' as const,
    provider: 'mock',
    modelId,
    supportedUrls: {},
    async doGenerate(): Promise<never> {
      throw new Error('the mock model only streams');
    },
    async doStream(call: any) {
      options.onCall?.(call);
      const n = calls++;
      const failure = options.fail?.(n);
      if (failure) throw failure;
      const text = options.answer?.(n) ?? options.text ?? 'Hello world';
      const pieces: string[] = [];
      for (let p = 0; p < text.length; p += size) pieces.push(text.slice(p, p + size));
      const signal: AbortSignal | undefined = call.abortSignal;
      let i = 0;
      const stream = new ReadableStream({
        async start(c) {
          c.enqueue({ type: 'stream-start', warnings: [] });
          c.enqueue({ type: 'response-metadata', id: 'resp-1', modelId, timestamp: new Date(0) });
          c.enqueue({ type: 'text-start', id: 't1' });
        },
        async pull(c) {
          if (i < pieces.length) {
            await options.beforePiece?.(i);
            if (signal?.aborted) return c.error(signal.reason ?? new Error('aborted'));
            c.enqueue({ type: 'text-delta', id: 't1', delta: pieces[i++] });
            return;
          }
          c.enqueue({ type: 'text-end', id: 't1' });
          c.enqueue({
            type: 'finish',
            finishReason: 'stop',
            usage: options.usage ?? { inputTokens: 11, outputTokens: 7, totalTokens: 18 },
          });
          c.close();
        },
      });
      return { stream, rawCall: { rawPrompt: null, rawSettings: {} } };
    },
  };
}

/** The text parts of a model call's prompt (system and user messages), joined. */
export function promptText(call: any): string {
  return (call.prompt as { role: string; content: unknown }[])
    .map((m) =>
      typeof m.content === 'string' ? m.content : (m.content as { text?: string }[]).map((p) => p.text ?? '').join(''),
    )
    .join('\n');
}
