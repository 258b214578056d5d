import { ApplicationFailure } from '@temporalio/common';
import { EngineError } from '../engines/engine.js';
import { DataPlaneError, DataPlaneUnavailableError } from '../platform/data-plane/errors.js';

/** Engine errors worth no retry become typed, non-retryable failures; transient ones stay retryable. */
export async function asActivityFailure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EngineError && error.failureClass !== 'transient') {
      throw ApplicationFailure.create({ type: error.failureClass, message: error.message, nonRetryable: true });
    }
    throw error;
  }
}

export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'invalid-input', message, nonRetryable: true });
}

/**
 * A data plane that refuses a change (bad target, unknown site, bad secret) will refuse it again: no retry, its reason
 * in the failure. One that cannot be reached or did not apply it (DataPlaneUnavailableError) is worth retrying.
 */
export async function dataPlaneRefusalIsFinal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DataPlaneError && !(error instanceof DataPlaneUnavailableError)) {
      throw invalidInput(`the data plane refused: ${error.message}`);
    }
    throw error;
  }
}
