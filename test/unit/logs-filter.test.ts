import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilterPattern, FilterPatternError, splitFields } from '../../src/services/logs/filter-pattern.js';

/**
 * CloudWatch Logs filter patterns, case by case from AWS's "Filter pattern syntax for metric
 * filters, subscription filters, filter log events, and Live Tail" page (its examples are
 * used verbatim where it has them).
 */
function matching(pattern: string, messages: string[]): string[] {
  const m = compileFilterPattern(pattern);
  return messages.filter((x) => m(x));
}

function rejects(pattern: string, message?: RegExp): void {
  assert.throws(() => compileFilterPattern(pattern), (e: unknown) => {
    assert.ok(e instanceof FilterPatternError, `expected FilterPatternError for ${pattern}, got ${String(e)}`);
    if (message) assert.match((e as Error).message, message);
    return true;
  });
}

describe('filter patterns: terms in unstructured events', () => {
  const events = ['[ERROR] A fatal exception has occurred', 'Exiting with ERRORCODE: -1', '[WARN] Failed to process the request', '[ERROR] Unable to continue: Failed to process the request', 'error in lower case'];

  it('an empty pattern, or "", matches every event', () => {
    assert.deepEqual(matching('', events), events);
    assert.deepEqual(matching('   ', events), events);
    assert.deepEqual(matching('""', events), events);
  });

  it('a single term matches events containing it, case-sensitively, as a substring', () => {
    assert.deepEqual(matching('ERROR', events), [events[0], events[1], events[3]]);
    assert.deepEqual(matching('error', events), [events[4]]);
  });

  it('several terms must all appear, in any order', () => {
    assert.deepEqual(matching('Failed to process the request', events), [events[2], events[3]]);
    assert.deepEqual(matching('request Failed', events), [events[2], events[3]]);
    assert.deepEqual(matching('ERROR Failed', events), [events[3]]);
  });

  it('a quoted phrase must appear exactly, spaces and punctuation included', () => {
    assert.deepEqual(matching('"Failed to process"', events), [events[2], events[3]]);
    assert.deepEqual(matching('"process Failed"', events), []);
    assert.deepEqual(matching('"[ERROR]"', events), [events[0], events[3]]);
    assert.deepEqual(matching('"ERRORCODE: -1"', events), [events[1]]);
    assert.deepEqual(matching('"say \\"hi\\""', ['they say "hi" now', 'say hi']), ['they say "hi" now']);
  });

  it('-term excludes; "ERROR" - "Exiting" drops the Exiting event', () => {
    assert.deepEqual(matching('"ERROR" - "Exiting"', events), [events[0], events[3]]);
    assert.deepEqual(matching('ERROR -Exiting', events), [events[0], events[3]]);
    assert.deepEqual(matching('ERROR -fatal -Unable', events), [events[1]]);
  });

  it('?term is OR: ?ERROR ?WARN matches either; ERROR WARN only both; ERROR -WARN one without the other', () => {
    const three = ['ERROR WARN message', 'ERROR message', 'WARN message', 'INFO message'];
    assert.deepEqual(matching('ERROR', three), [three[0], three[1]]);
    assert.deepEqual(matching('?ERROR ?WARN', three), [three[0], three[1], three[2]]);
    assert.deepEqual(matching('ERROR WARN', three), [three[0]]);
    assert.deepEqual(matching('ERROR -WARN', three), [three[1]]);
    assert.deepEqual(matching('?"WARN message" ?INFO', three), [three[0], three[2], three[3]]);
  });

  it('terms with characters other than letters, digits and _ . : / # - must be quoted', () => {
    rejects('user@example.com', /Invalid character\(s\) in term 'user@example.com'/);
    rejects('a=b', /Invalid character/);
    assert.deepEqual(matching('"user@example.com"', ['login user@example.com ok', 'login other']), ['login user@example.com ok']);
    assert.deepEqual(matching('/index.html 404', ['GET /index.html 404', 'GET /index.html 200']), ['GET /index.html 404']);
  });

  it('an unterminated quote is an invalid pattern', () => {
    rejects('"open', /unterminated/);
  });
});

describe('filter patterns: JSON events', () => {
  // AWS's example document.
  const doc = JSON.stringify({
    eventType: 'UpdateTrail',
    sourceIPAddress: '111.111.111.111',
    arrayKey: ['value', 'another value'],
    objectList: [
      { name: 'a', id: 1 },
      { name: 'b', id: 2 },
    ],
    SomeObject: null,
    ThisFlag: true,
  });
  const yes = (p: string) => assert.equal(compileFilterPattern(p)(doc), true, p);
  const no = (p: string) => assert.equal(compileFilterPattern(p)(doc), false, p);

  it('= and != on strings, quoted or not', () => {
    yes('{ $.eventType = "UpdateTrail" }');
    yes('{ $.eventType = UpdateTrail }');
    yes('{$.eventType="UpdateTrail"}');
    no('{ $.eventType = "updatetrail" }');
    yes('{ $.eventType != "CreateTrail" }');
    no('{ $.eventType != "UpdateTrail" }');
  });

  it('* at either end of a value is a wildcard; inside it is a literal', () => {
    yes('{ $.sourceIPAddress != 123.123.* }');
    no('{ $.sourceIPAddress = 123.123.* }');
    yes('{ $.sourceIPAddress = 111.111.* }');
    yes('{ $.eventType = "*Trail" }');
    yes('{ $.eventType = *date* }');
    yes('{ $.eventType = * }');
    no('{ $.eventType = "Update*ail" }');
    assert.equal(compileFilterPattern('{ $.s = "Ev*ent" }')('{"s":"Ev*ent"}'), true);
  });

  it('array indexes and nested properties: $.arrayKey[0], $.objectList[1].id', () => {
    yes('{ $.arrayKey[0] = "value" }');
    yes('{ $.arrayKey[1] = "another value" }');
    no('{ $.arrayKey[2] = "value" }');
    yes('{ $.objectList[1].id = 2 }');
    yes('{ $.objectList[0].name = a }');
    no('{ $.eventType[0] = "UpdateTrail" }');
    assert.equal(compileFilterPattern('{ $.coordinates[0][1] = 1 }')(JSON.stringify({ coordinates: [[0, 1, 2]] })), true);
    assert.equal(compileFilterPattern('{ $.a-b.c_d = 1 }')(JSON.stringify({ 'a-b': { c_d: 1 } })), true);
  });

  it('IS NULL, NOT EXISTS, IS TRUE, IS FALSE', () => {
    yes('{ $.SomeObject IS NULL }');
    no('{ $.eventType IS NULL }');
    no('{ $.Missing IS NULL }');
    yes('{ $.SomeOtherObject NOT EXISTS }');
    no('{ $.SomeObject NOT EXISTS }');
    yes('{ $.ThisFlag IS TRUE }');
    no('{ $.ThisFlag IS FALSE }');
    assert.equal(compileFilterPattern('{ $.f IS FALSE }')('{"f":false}'), true);
    no('{ $.eventType IS TRUE }');
  });

  it('a selector that reaches an object or array, or nothing, makes = and != false alike', () => {
    const users = JSON.stringify({ users: [1, 2, 3] });
    assert.equal(compileFilterPattern('{ $.users = 1 }')(users), false);
    assert.equal(compileFilterPattern('{ $.users != 1 }')(users), false);
    no('{ $.nothing != "x" }');
    no('{ $.SomeObject = "x" }');
  });

  it('numeric comparisons < <= > >= = != with signs, decimals and exponents', () => {
    const m = JSON.stringify({ latency: 500, numbers: [5], errorCode: 400, processes: [0, 0, 0, 0, { averageRuntime: 55.5 }] });
    const ok = (p: string, want = true) => assert.equal(compileFilterPattern(p)(m), want, p);
    ok('{ $.latency >= 500 }');
    ok('{ $.latency > 500 }', false);
    ok('{ $.latency < 501 }');
    ok('{ $.latency <= 499 }', false);
    ok('{ $.numbers[0] < 10e3 }');
    ok('{ $.numbers[0] < 10e-3 }', false);
    ok('{ $.processes[4].averageRuntime <= 55.5 }');
    ok('{ $.errorCode = 400 }');
    ok('{ $.errorCode = 400.0 }');
    ok('{ $.errorCode != 500 }');
    ok('{ $.latency > +1000 }', false);
    ok('{ $.latency > -1 }');
    // A number compared with a string that is not numeric: no match.
    assert.equal(compileFilterPattern('{ $.v > 3 }')('{"v":"abc"}'), false);
  });

  it('&& binds tighter than ||, and parentheses regroup (AWS compound examples)', () => {
    const m = JSON.stringify({
      user: { id: 1, email: 'John.Stiles@example.com' },
      users: [
        { id: 2, email: 'John.Doe@example.com' },
        { id: 3, email: 'Jane.Doe@example.com' },
      ],
      actions: ['GET', 'PUT', 'DELETE'],
      coordinates: [
        [0, 1, 2],
        [4, 5, 6],
        [7, 8, 9],
      ],
    });
    const ok = (p: string, want: boolean) => assert.equal(compileFilterPattern(p)(m), want, p);
    ok('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', true);
    ok('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', false);
    ok('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }', true);
    ok('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }', false);
    ok('{ $.foo = bar || $.user.id = 1 }', true);
  });

  it('OR across events: {$.foo = bar || $.foo = baz}', () => {
    assert.deepEqual(matching('{$.foo = bar || $.foo = baz }', ['{"foo": "bar"}', '{"foo": "baz"}', '{"foo": "qux"}']), ['{"foo": "bar"}', '{"foo": "baz"}']);
  });

  it('%regex% values', () => {
    yes('{ $.eventType = %^Update% }');
    no('{ $.eventType = %^Create% }');
    yes('{ $.eventType != %^Create% }');
  });

  it('messages that are not JSON match no JSON pattern, NOT EXISTS included', () => {
    assert.equal(compileFilterPattern('{ $.a NOT EXISTS }')('plain text'), false);
    assert.equal(compileFilterPattern('{ $.a = 1 }')('{broken'), false);
  });

  it('malformed JSON patterns are rejected', () => {
    rejects('{ $.a = 1', /must end with '}'/);
    rejects('{ a = 1 }', /selector/);
    rejects('{ $.a 1 }', /operator/);
    rejects('{ $.a > abc }', /needs a number/);
    rejects('{ $.a IS MAYBE }', /IS takes/);
    rejects('{ ($.a = 1 }', /\)/);
    rejects('{ $.a = 1 && }');
    rejects('{ }', /empty/);
  });
});

describe('filter patterns: space-delimited events', () => {
  const log = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /index.html HTTP/1.0" 404 4355',
    '10.0.0.9 - ann [10/Oct/2000:13:55:01 -0700] "POST /login HTTP/1.1" 403 200',
  ];

  it('fields are cut at spaces; "…" and […] are one field each, without their delimiters', () => {
    assert.deepEqual(splitFields(log[0]!), ['127.0.0.1', '-', 'frank', '10/Oct/2000:13:25:15 -0700', 'GET /apache_pb.gif HTTP/1.0', '200', '1534']);
    assert.deepEqual(splitFields('  a   b  '), ['a', 'b']);
  });

  it('names every field; the field count must match without an ellipsis', () => {
    assert.deepEqual(matching('[ip, user, username, timestamp, request, status_code, bytes]', log), log);
    assert.deepEqual(matching('[ip, user, username, timestamp, request, status_code]', log), []);
    assert.deepEqual(matching('[ip, user, username, timestamp, request, status_code, bytes, extra]', log), []);
  });

  it('... stands for any number of fields, at the start, middle or end', () => {
    assert.deepEqual(matching('[..., status_code, bytes]', log), log);
    assert.deepEqual(matching('[ip, user, ..., status_code, bytes]', log), log);
    assert.deepEqual(matching('[ip, user, ...]', log), log);
    assert.deepEqual(matching('[..., status_code = 404, bytes]', log), [log[2]]);
    assert.deepEqual(matching('[ip = 10.*, ...]', log), [log[3]]);
  });

  it('string conditions with = and != and wildcards; numeric ones with < <= > >= = !=', () => {
    assert.deepEqual(matching('[ip, user, username, timestamp, request, status_code, bytes > 1000]', log), [log[0], log[1], log[2]]);
    assert.deepEqual(matching('[ip, user, username, timestamp, request, status_code = 200, bytes]', log), [log[0]]);
    assert.deepEqual(matching('[ip, user, username, timestamp, request, status_code = 4*, bytes]', log), [log[2], log[3]]);
    assert.deepEqual(matching('[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]', log), [log[2]]);
    assert.deepEqual(matching('[ip, user, username != frank, ...]', log), [log[3]]);
    assert.deepEqual(matching('[..., status_code >= 500, bytes <= 5324]', log), [log[1]]);
    assert.deepEqual(matching('[..., request = "POST /login HTTP/1.1", status_code, bytes]', log), [log[3]]);
  });

  it('&& and || inside a field, which may name other fields of the pattern', () => {
    assert.deepEqual(matching('[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]', [...log, 'a b c d e 404 9999']), []);
    assert.deepEqual(matching('[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000, bytes]', log), [log[2]]);
    assert.deepEqual(matching('[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]', log), [log[2], log[3]]);
  });

  it('w1=ERROR style OR and AND (AWS examples)', () => {
    const three = ['ERROR WARN message', 'ERROR message', 'WARN message'];
    assert.deepEqual(matching('[w1=ERROR, w2]', three), [three[1]]);
    assert.deepEqual(matching('[w1=ERROR || w1=WARN, w2]', three), [three[1], three[2]]);
    assert.deepEqual(matching('[w1!=ERROR&&w1!=WARN, w2]', ['INFO x', ...three]), ['INFO x']);
  });

  it('a trailing empty field counts as one unnamed field', () => {
    assert.deepEqual(matching('[..., request=*.html*, status_code=4*,]', log), [log[2]]);
  });

  it('malformed space-delimited patterns are rejected', () => {
    rejects('[a, b', /must end with '\]'/);
    rejects('[a b]', /Invalid filter pattern/);
    rejects('[a > x]', /needs a number/);
  });
});

describe('filter patterns: regular expressions', () => {
  it('%…% standalone matches anywhere in the message', () => {
    assert.deepEqual(matching('%AUTHORIZED%', ['[ERROR 401] UNAUTHORIZED REQUEST', '[SUCCESS 200] AUTHORIZED REQUEST', 'nothing']), ['[ERROR 401] UNAUTHORIZED REQUEST', '[SUCCESS 200] AUTHORIZED REQUEST']);
    assert.deepEqual(matching('%^\\[SUCCESS%', ['[ERROR 401] UNAUTHORIZED REQUEST', '[SUCCESS 200] AUTHORIZED REQUEST']), ['[SUCCESS 200] AUTHORIZED REQUEST']);
    assert.deepEqual(matching('%[0-9]{3}%', ['code 404', 'code 40']), ['code 404']);
  });

  it('has no groups, as AWS documents', () => {
    rejects('%(a|b)%', /not supported/);
  });
});
