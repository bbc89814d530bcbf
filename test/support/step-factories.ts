// Small factories for the engine suites: numeric steps, a manual clock, a quiet recording logger.
import { z } from 'zod';
import { createStep, createWorkflow, type Logger } from '../../src/index.js';

export const numSchema = z.object({ n: z.number() });

/** A step that maps `{ n }` to `{ n: f(n) }`; `create` may be another engine's `createStep` (Mastra's). */
export function numStep(id: string, f: (n: number) => number = (n) => n + 1, create = createStep) {
  return create({
    id,
    inputSchema: numSchema,
    outputSchema: numSchema,
    execute: async ({ inputData }) => ({ n: f(inputData.n) }),
  });
}

/** A step that suspends with `{ asking: n }` (as `return await suspend(...)`), then adds the resume's `add`. */
export function askingStep(id: string, create = createStep) {
  return create({
    id,
    inputSchema: numSchema,
    outputSchema: numSchema,
    resumeSchema: z.object({ add: z.number() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) return await suspend({ asking: inputData.n });
      return { n: inputData.n + resumeData.add };
    },
  });
}

/** A step that throws `error` (made fresh per call) and counts its calls in `calls.count`. */
export function failingStep(id: string, makeError: () => unknown, calls = { count: 0 }, retries?: number) {
  return createStep({
    id,
    inputSchema: numSchema,
    outputSchema: numSchema,
    ...(retries === undefined ? {} : { retries }),
    execute: async () => {
      calls.count++;
      throw makeError();
    },
  });
}

/** A workflow over `{ n }` with the given id. */
export function numWorkflow(id: string, options: Partial<Parameters<typeof createWorkflow>[0]> = {}) {
  return createWorkflow({ id, inputSchema: numSchema, outputSchema: z.any(), ...options });
}

/** A logger that records what it is told. */
export function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A clock whose time moves only when told (the one `weft/testing` exports). */
export { createManualClock as manualClock } from '../../src/testing/manual-clock.js';

export { until } from './wait.js';
