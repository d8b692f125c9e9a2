/**
 * Nimbus's Node.js bootstrap (written for Nimbus; it follows the behaviour of AWS's
 * runtime interface client, not its code). The engine writes it to the runtime
 * directory as bootstrap.cjs and runs `node bootstrap.cjs`.
 *
 * What it reproduces, because functions and tools depend on it:
 * - handler resolution: `dir/module.export.path`; extensionless, then .js as CommonJS
 *   unless the nearest package.json says "type":"module", then .js/.mjs as ES modules,
 *   then .cjs, then require.resolve from the task root;
 * - init failures as Runtime.ImportModuleError / Runtime.HandlerNotFound /
 *   Runtime.MalformedHandlerName / Runtime.UserCodeSyntaxError, posted to /init/error;
 * - async handlers, callback handlers (callbackWaitsForEmptyEventLoop: the response is
 *   sent once the event loop is empty), context.succeed/fail/done;
 * - error documents {errorType, errorMessage, trace} and the "Invoke Error" log line;
 * - console patched to "<ISO time>\t<request id>\t<LEVEL>\t<message>" (newlines inside a
 *   message become \r so one call stays one log event), AWS_LAMBDA_LOG_LEVEL and
 *   AWS_LAMBDA_LOG_FORMAT=JSON;
 * - uncaught exceptions / unhandled rejections reported as the invocation's error, then exit.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html
 *
 * Kept free of backticks and dollar-brace so it can live in this template string.
 */
export const NODE_BOOTSTRAP = String.raw`'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

const API = process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001';
const colon = API.lastIndexOf(':');
const HOST = API.slice(0, colon);
const PORT = Number(API.slice(colon + 1));
const BASE = '/2018-06-01/runtime/';
const agent = new http.Agent({ keepAlive: true });

function request(method, p, headers, body) {
  return new Promise(function (resolve, reject) {
    const req = http.request({ agent: agent, host: HOST, port: PORT, method: method, path: BASE + p, headers: headers }, function (res) {
      const chunks = [];
      res.on('data', function (c) { chunks.push(c); });
      res.on('end', function () { resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Node writes to a pipe asynchronously; everything the invocation logged must have left
// the process before its answer does (the environment is frozen right after), so an
// empty write - whose callback runs once all earlier writes are flushed - is awaited.
function flushed(stream) {
  return stream.writableLength > 0 ? new Promise(function (r) { stream.write('', r); }) : null;
}

async function post(p, body, errorType, contentType) {
  const a = flushed(process.stdout);
  const b = flushed(process.stderr);
  if (a) await a;
  if (b) await b;
  return send(p, body, errorType, contentType);
}

function send(p, body, errorType, contentType) {
  const headers = { 'Content-Type': contentType || 'application/json' };
  if (errorType) headers['Lambda-Runtime-Function-Error-Type'] = errorType;
  return request('POST', p, headers, body).then(function (r) {
    if (r.status === 413) {
      // The platform refused the response as too large; it reports that to the caller.
      return;
    }
    if (r.status >= 300) {
      process.stderr.write('Runtime API answered ' + r.status + ' to ' + p + ': ' + r.body + '\n');
    }
  });
}

// ---- errors --------------------------------------------------------------------
class RuntimeError extends Error {}
function runtimeError(name) {
  const C = class extends RuntimeError {};
  Object.defineProperty(C.prototype, 'name', { value: 'Runtime.' + name, writable: true, configurable: true });
  return C;
}
const ImportModuleError = runtimeError('ImportModuleError');
const HandlerNotFound = runtimeError('HandlerNotFound');
const MalformedHandlerName = runtimeError('MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
const UnhandledPromiseRejection = runtimeError('UnhandledPromiseRejection');
const NodeJsExit = runtimeError('NodeJsExit');
const JSONStringifyError = runtimeError('JSONStringifyError');

function isErrorLike(e) {
  return e && typeof e.name === 'string' && typeof e.message === 'string' && typeof e.stack === 'string';
}

// The document AWS's Node runtime posts: {errorType, errorMessage, trace}.
function toErrorDocument(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: String(error.stack).split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

// What the "Invoke Error" / "Uncaught Exception" log lines carry after a tab.
function toLogged(error) {
  try {
    return '\t' + JSON.stringify(error, function (_k, v) {
      if (v instanceof Error) {
        const out = Object.assign({ errorType: v.name, errorMessage: v.message, code: v.code }, v);
        if (typeof v.stack === 'string') out.stack = v.stack.split('\n');
        return out;
      }
      return v;
    });
  } catch (_) {
    return '\t' + JSON.stringify(toErrorDocument(error));
  }
}

function intoError(e) {
  return e instanceof Error ? e : new Error(e);
}

// ---- console -------------------------------------------------------------------
let currentRequestId;
const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
const minLevel = LEVELS[String(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || 1;
const jsonFormat = String(process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';

function writeLine(line) {
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function logText(level, args) {
  writeLine(new Date().toISOString() + '\t' + currentRequestId + '\t' + level + '\t' + util.format.apply(util, args));
}

function logJson(level, args) {
  const doc = { timestamp: new Date().toISOString(), level: level, requestId: currentRequestId };
  if (args.length === 1 && !(args[0] instanceof Error)) {
    doc.message = args[0];
  } else {
    doc.message = util.format.apply(util, args);
    for (const a of args) {
      if (a instanceof Error) {
        doc.errorType = a.name;
        doc.errorMessage = a.message;
        doc.stackTrace = typeof a.stack === 'string' ? a.stack.split('\n') : [];
        break;
      }
    }
  }
  let line;
  try { line = JSON.stringify(doc); } catch (_) { doc.message = util.format(doc.message); line = JSON.stringify(doc); }
  writeLine(line);
}

const emit = jsonFormat ? logJson : logText;
function level(name) {
  if (LEVELS[name] < minLevel) return function () {};
  return function () { emit(name, Array.prototype.slice.call(arguments)); };
}
console.trace = level('TRACE');
console.debug = level('DEBUG');
console.info = level('INFO');
console.log = console.info;
console.warn = level('WARN');
console.error = level('ERROR');
console.fatal = level('FATAL');

function logError(what, err) {
  if (jsonFormat) console.error(intoError(err));
  else console.error(what, toLogged(intoError(err)));
}

// ---- loading the handler ------------------------------------------------------
function hasTypeModule(folder) {
  for (;;) {
    if (folder.endsWith('/node_modules')) return false;
    const pj = path.join(folder, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'));
        return !!pkg && pkg.type === 'module';
      } catch (e) {
        console.warn(pj + ' cannot be read, it will be ignored for ES module detection purposes.', e);
        return false;
      }
    }
    if (folder === '/') return false;
    folder = path.resolve(folder, '..');
  }
}

function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImport(file) {
  if (!fs.existsSync(file)) return undefined;
  searchNodePathForEsm();
  return await import(pathToFileURL(file).href);
}

// As on AWS since nodejs18.x, an ES module's bare import that the usual lookup (the
// node_modules folders above it) cannot resolve is looked up in the NODE_PATH folders:
// the layers and the runtime's SDK. Node itself ignores NODE_PATH for ES modules, so a
// resolve hook does it; it is registered only when an ES module is loaded (it costs a
// loader thread, ~20 ms, on Node 20).
let esmHookRegistered = false;
function searchNodePathForEsm() {
  if (esmHookRegistered) return;
  esmHookRegistered = true;
  const mod = require('node:module');
  const dirs = (process.env.NODE_PATH || '').split(':').filter(function (d) { return d && path.basename(d) === 'node_modules'; });
  if (!dirs.length || typeof mod.register !== 'function') return;
  const hook = [
    'import { existsSync } from "node:fs";',
    'const DIRS = ' + JSON.stringify(dirs) + ';',
    'export async function resolve(specifier, context, next) {',
    '  try { return await next(specifier, context); } catch (err) {',
    '    if (!err || err.code !== "ERR_MODULE_NOT_FOUND" || /^([./]|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier)) throw err;',
    '    const parts = specifier.split("/");',
    '    const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];',
    '    for (const dir of DIRS) {',
    // Resolving from a file beside the folder makes Node look in <dir>/<name> first,
    // with the package's own "exports" and "import" conditions.
    '      if (existsSync(dir + "/" + name)) return next(specifier, { ...context, parentURL: "file://" + encodeURI(dir.slice(0, -"node_modules".length)) + "noop.mjs" });',
    '    }',
    '    throw err;',
    '  }',
    '}',
  ].join('\n');
  try {
    mod.register('data:text/javascript,' + encodeURIComponent(hook));
  } catch (e) {
    process.stderr.write('Nimbus could not register the NODE_PATH resolver for ES modules: ' + String(e) + '\n');
  }
}

async function loadModule(appRoot, moduleRoot, mod) {
  const base = path.resolve(appRoot, moduleRoot, mod);
  const plain = tryRequire(base);
  if (plain) return plain;
  const esm = hasTypeModule(path.dirname(base));
  if (!esm) {
    const cjs = tryRequire(base + '.js');
    if (cjs) return cjs;
  }
  const loaded = (esm && (await tryImport(base + '.js'))) || (await tryImport(base + '.mjs')) || tryRequire(base + '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(mod, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, full) {
  if (full.includes('..')) {
    throw new MalformedHandlerName("'" + full + "' is not a valid handler name. Use absolute paths when specifying root directories in handler names.");
  }
  const handlerString = path.basename(full);
  const moduleRoot = full.substring(0, full.indexOf(handlerString));
  const m = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (!m) throw new MalformedHandlerName('Bad handler');
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, m[1]);
  } catch (e) {
    if (e instanceof SyntaxError) {
      const err = new UserCodeSyntaxError(String(e));
      err.stack = e.stack;
      throw err;
    }
    if (e && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(String(e));
    throw e;
  }
  const fn = m[2].split('.').reduce(function (o, k) { return o && o[k]; }, app);
  if (!fn) throw new HandlerNotFound(full + ' is undefined or not exported');
  if (typeof fn !== 'function') throw new HandlerNotFound(full + ' is not a function');
  return fn;
}

// ---- response streaming (buffered) ---------------------------------------------
// awslambda.streamifyResponse handlers get a writable stream; Nimbus collects what they
// write and answers with it once the stream has ended (what a plain Invoke of a
// streaming function returns on AWS).
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const InvalidStreamingOperation = runtimeError('InvalidStreamingOperation');
globalThis.awslambda = {
  streamifyResponse: function (handler) {
    handler[STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream: {
    from: function (stream, prelude) {
      if (stream.setContentType) stream.setContentType('application/vnd.awslambda.http-integration-response');
      stream.write(JSON.stringify(prelude));
      stream.write(Buffer.alloc(8));
      return stream;
    },
  },
};

function runStreaming(handler, event, context, id, fail, resolveIteration) {
  const { Writable } = require('node:stream');
  const chunks = [];
  let contentType = 'application/octet-stream';
  const stream = new Writable({
    write: function (chunk, enc, cb) { chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, enc)); cb(); },
  });
  stream.setContentType = function (t) { contentType = t; };
  const result = handler(event, stream, context);
  if (!result || typeof result.then !== 'function') {
    return fail(new InvalidStreamingOperation('Streaming does not support non-async handlers.'));
  }
  result.then(function () {
    if (!stream.writableEnded) return fail(new InvalidStreamingOperation('Response stream is not finished.'));
    const answer = function () {
      post('invocation/' + encodeURIComponent(id) + '/response', Buffer.concat(chunks), undefined, contentType).then(resolveIteration, resolveIteration);
    };
    if (stream.writableFinished) answer();
    else stream.once('finish', answer);
  }, fail);
}

// ---- the invoke loop ----------------------------------------------------------
let onUncaught = function (err) {
  post('init/error', JSON.stringify(toErrorDocument(err)), err && err.name).finally(function () { process.exit(129); });
};
let onRejection = function (err) {
  post('init/error', JSON.stringify(toErrorDocument(err)), err && err.name).finally(function () { process.exit(128); });
};
process.on('uncaughtException', function (err) {
  logError('Uncaught Exception', err);
  onUncaught(err);
});
process.on('unhandledRejection', function (reason, promise) {
  const err = new UnhandledPromiseRejection(String(reason));
  err.reason = reason;
  err.promise = promise;
  logError('Unhandled Promise Rejection', err);
  onRejection(err);
});

let beforeExit = null;
process.on('beforeExit', function () {
  const f = beforeExit;
  beforeExit = null;
  if (f) f();
});

function parseJson(s, what) {
  if (!s) return undefined;
  try { return JSON.parse(s); } catch (e) { throw new Error('Cannot parse ' + what + ' as JSON: ' + e.message); }
}

function handleOne(handler, isAsync, next) {
  return new Promise(function (resolveIteration) {
    const h = next.headers;
    const id = h['lambda-runtime-aws-request-id'];
    const deadline = Number(h['lambda-runtime-deadline-ms']);
    currentRequestId = id;
    if (h['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = h['lambda-runtime-trace-id'];
    else delete process.env._X_AMZN_TRACE_ID;

    let finished = false;
    let waitForEmptyEventLoop = true;
    function respond(result) {
      let body;
      try {
        body = JSON.stringify(result === undefined ? null : result);
      } catch (e) {
        return fail(new JSONStringifyError('Unable to stringify response body'));
      }
      post('invocation/' + encodeURIComponent(id) + '/response', body).then(resolveIteration, resolveIteration);
    }
    function fail(err) {
      logError('Invoke Error', err);
      post('invocation/' + encodeURIComponent(id) + '/error', JSON.stringify(toErrorDocument(err)), errorTypeOf(err)).then(resolveIteration, resolveIteration);
    }
    function once(f) {
      return function (a, b) {
        if (finished) return;
        finished = true;
        beforeExit = null;
        f(a, b);
      };
    }
    const done = once(function (err, result) {
      if (err !== undefined && err !== null) fail(err);
      else respond(result);
    });
    const callback = once(function (err, result) {
      if (err !== undefined && err !== null) fail(err);
      else if (!waitForEmptyEventLoop) respond(result);
      else beforeExit = function () { setImmediate(function () { respond(result); }); };
    });
    onUncaught = function (err) {
      finished = true;
      post('invocation/' + encodeURIComponent(id) + '/error', JSON.stringify(toErrorDocument(err)), errorTypeOf(err)).finally(function () { process.exit(129); });
    };
    onRejection = function (err) {
      finished = true;
      post('invocation/' + encodeURIComponent(id) + '/error', JSON.stringify(toErrorDocument(err)), errorTypeOf(err)).finally(function () { process.exit(128); });
    };
    // The event loop emptied without an answer: a sync or callback handler that never
    // called back answers null; an async one whose promise never settled is an error.
    beforeExit = function () {
      if (finished) return;
      finished = true;
      if (isAsync) {
        fail(new NodeJsExit('The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled.'));
      } else {
        post('invocation/' + encodeURIComponent(id) + '/response', 'null').then(resolveIteration, resolveIteration);
      }
    };

    const context = {
      get callbackWaitsForEmptyEventLoop() { return waitForEmptyEventLoop; },
      set callbackWaitsForEmptyEventLoop(v) { waitForEmptyEventLoop = v; },
      succeed: function (result) { done(null, result); },
      fail: function (err) { done(err === undefined || err === null ? 'handled' : err, null); },
      done: done,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: undefined,
      identity: undefined,
      invokedFunctionArn: h['lambda-runtime-invoked-function-arn'],
      awsRequestId: id,
      getRemainingTimeInMillis: function () { return deadline - Date.now(); },
    };
    try {
      context.clientContext = parseJson(h['lambda-runtime-client-context'], 'ClientContext');
      context.identity = parseJson(h['lambda-runtime-cognito-identity'], 'CognitoIdentity');
      const event = JSON.parse(next.body.toString('utf8'));
      if (handler[STREAMING]) {
        finished = true;
        beforeExit = null;
        return runStreaming(handler, event, context, id, fail, resolveIteration);
      }
      const result = handler(event, context, callback);
      if (result && typeof result.then === 'function') {
        result.then(context.succeed, context.fail);
      }
    } catch (err) {
      callback(err);
    }
  });
}

function errorTypeOf(err) {
  return err && typeof err.name === 'string' ? err.name : typeof err;
}

async function main() {
  let handler;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER || '');
  } catch (err) {
    logError('Uncaught Exception', err);
    await post('init/error', JSON.stringify(toErrorDocument(err)), errorTypeOf(err)).catch(function () {});
    process.exit(129);
  }
  const isAsync = handler.constructor && handler.constructor.name === 'AsyncFunction';
  for (;;) {
    const next = await request('GET', 'invocation/next');
    if (next.status !== 200) {
      process.stderr.write('Runtime API answered ' + next.status + ' to invocation/next\n');
      process.exit(1);
    }
    await handleOne(handler, isAsync, next);
  }
}

main().catch(function (err) {
  console.log('Unexpected Top Level Error: ' + String(err));
  onUncaught(err);
});
`;
