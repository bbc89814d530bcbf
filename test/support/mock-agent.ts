// A real Mastra Agent on a mock language model (no network), for the agent step suites.
import { Agent } from '@mastra/core/agent';
import { mockModel, type MockModelOptions } from './mock-model.js';

/** A real Mastra Agent on a mock model. */
export function mockAgent(id: string, options: MockModelOptions & { instructions?: any } = {}): Agent<any> {
  return new Agent({
    id,
    name: id,
    description: `The ${id} agent`,
    instructions: options.instructions ?? 'Answer briefly.',
    model: mockModel(options) as never,
  });
}
