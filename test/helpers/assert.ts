import assert from 'node:assert/strict';
import { ServiceError } from '../../src/protocol/errors.js';

/** Runs fn, asserts it throws a ServiceError, and returns it for further checks. */
export function errorOf(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ServiceError, `expected a ServiceError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}
