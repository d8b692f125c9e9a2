import assert from 'node:assert/strict';
import { ServiceError } from '../../src/protocol/errors.js';
import type { S3ServiceException } from '@aws-sdk/client-s3';

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

/**
 * Awaits an SDK call that must fail and checks the error: its name (when given; a 304 has no
 * body, so SDKs cannot name it), its HTTP status, and its message (a string: equal; a RegExp:
 * matching). Returns the error for further checks.
 */
export async function expectError(p: Promise<unknown>, name: string | undefined, status: number, message?: string | RegExp): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    const err = e as S3ServiceException;
    if (name !== undefined) assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata?.httpStatusCode, status, `${err.name}: ${err.message}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${name ?? status}`);
}
