// A run action started from a request: answered when quick, logged when it fails later, quiet when handed over.
import { describe, expect, it, vi } from 'vitest';
import { WeftError } from '../errors.js';
import type { WorkflowResult } from '../workflow/types.js';
import { launchAction } from './launch-action.js';

const later = (fail: unknown): Promise<WorkflowResult> =>
  new Promise((_resolve, reject) => setTimeout(() => reject(fail), 20));

describe('launchAction', () => {
  it('an error within the wait is the request’s', async () => {
    const onLateError = vi.fn();
    const refused = Promise.reject(new WeftError('INVALID_INPUT', 'bad input'));
    await expect(launchAction(refused, 1000, onLateError)).rejects.toThrow('bad input');
    expect(onLateError).not.toHaveBeenCalled();
  });

  it('an error after the wait is logged', async () => {
    const onLateError = vi.fn();
    expect(await launchAction(later(new Error('step exploded')), 1, onLateError)).toEqual({ settled: false });
    await vi.waitFor(() => expect(onLateError).toHaveBeenCalledOnce());
  });

  it('a run handed over as the engine closes is not logged as an error', async () => {
    const onLateError = vi.fn();
    const handedOver = later(new WeftError('ENGINE_CLOSED', 'engine closed'));
    expect(await launchAction(handedOver, 1, onLateError)).toEqual({ settled: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(onLateError).not.toHaveBeenCalled();
  });
});
