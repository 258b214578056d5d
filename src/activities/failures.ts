import { ApplicationFailure } from '@temporalio/common';
import { EngineError } from '../engines/engine.js';
import { RouterClientError } from '../platform/router/client.js';

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

/** A router that refuses a call (bad token, bad route: 4xx) will refuse it again: no retry, its reason in the failure. */
export async function routerRefusalIsFinal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RouterClientError && error.status >= 400 && error.status < 500)
      throw invalidInput(`the router refused: ${error.message}`);
    throw error;
  }
}
