import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/protocol/model.js';
import { constraintViolations, typeMismatch } from '../../src/protocol/constraints.js';

/** The model's input constraints, reported in AWS's words (checked against the Logs model). */
const logs = loadModel('logs');
const input = (op: string) => logs.operations[op]!.input!;

describe('model constraints', () => {
  it('accepts input that satisfies the model', () => {
    assert.equal(constraintViolations(logs, input('CreateLogStream'), { logGroupName: '/aws/lambda/fn', logStreamName: '2025/01/01/[$LATEST]abc' }), undefined);
    assert.equal(constraintViolations(logs, input('TagResource'), { resourceArn: 'arn:aws:logs:us-east-1:111111111111:log-group:g', tags: { 'team name': 'a/b+c@d' } }), undefined);
  });

  it('patterns must match the whole value', () => {
    assert.equal(
      constraintViolations(logs, input('CreateLogStream'), { logGroupName: 'g', logStreamName: 'a:b' }),
      "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*",
    );
    assert.match(constraintViolations(logs, input('CreateLogGroup'), { logGroupName: 'has space' })!, /Member must satisfy regular expression pattern: \[\\\.\\-_\/#A-Za-z0-9\]\+/);
  });

  it('required members, lengths, value ranges and enums; several violations in one message', () => {
    assert.equal(constraintViolations(logs, input('CreateLogStream'), {}), "2 validation errors detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null; Value null at 'logStreamName' failed to satisfy constraint: Member must not be null");
    assert.equal(
      constraintViolations(logs, input('GetLogEvents'), { logStreamName: 's', limit: 10001 }),
      "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000",
    );
    assert.match(constraintViolations(logs, input('CreateLogGroup'), { logGroupName: 'x'.repeat(513) })!, /Member must have length less than or equal to 512/);
    assert.match(constraintViolations(logs, input('DescribeLogStreams'), { logGroupName: 'g', orderBy: 'Size' })!, /Member must satisfy enum value set: \[LogStreamName, LastEventTime\]/);
  });

  it('names list members 1-based, AWS style', () => {
    const r = constraintViolations(logs, input('PutLogEvents'), { logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message: 'ok' }, { timestamp: -1 }] });
    assert.match(r!, /at 'logEvents\.2\.member\.timestamp' failed to satisfy constraint: Member must have value greater than or equal to 0/);
    assert.match(r!, /at 'logEvents\.2\.member\.message' failed to satisfy constraint: Member must not be null/);
    assert.match(constraintViolations(logs, input('PutLogEvents'), { logGroupName: 'g', logStreamName: 's', logEvents: [] })!, /at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1/);
  });

  it('map keys and values', () => {
    const r = constraintViolations(logs, input('TagLogGroup'), { logGroupName: 'g', tags: { 'bad!key': 'v' } });
    assert.match(r!, /at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: \[Member must satisfy regular expression pattern/);
  });

  it('type mismatches are found before constraints', () => {
    assert.equal(typeMismatch(logs, input('GetLogEvents'), { logStreamName: 's', limit: 'ten' }), 'limit: expected an integer');
    assert.equal(typeMismatch(logs, input('PutLogEvents'), { logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message: 2 }] }), 'logEvents[0].message: expected a string');
    assert.equal(typeMismatch(logs, input('GetLogEvents'), { logStreamName: 's', limit: 10 }), undefined);
  });
});
