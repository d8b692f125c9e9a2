/**
 * Nimbus's Python bootstrap (written for Nimbus, following the behaviour of AWS's
 * Python runtime interface client). The engine writes it as bootstrap.py and runs
 * `python3 -u bootstrap.py`.
 *
 * - `module.function` handlers (a module path may use / or .), imported from the task root;
 * - init failures: Runtime.ImportModuleError "Unable to import module 'm': …",
 *   Runtime.HandlerNotFound "Handler 'f' missing on module 'm'", Runtime.UserCodeSyntaxError,
 *   Runtime.MalformedHandlerName, with requestId "" and posted to /init/error;
 * - invoke errors {errorMessage, errorType, requestId, stackTrace: [...]}, logged as
 *   "[ERROR] Type: message\rTraceback (most recent call last):\r…";
 * - the context object (aws_request_id, function_name, …, get_remaining_time_in_millis());
 * - the root logger's handler "[LEVEL]\t<time>Z\t<request id>\t<message>" (level left as
 *   Python's default, WARNING, as on AWS); print() goes to stdout as it is.
 * https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
 * https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
 */
export const PYTHON_BOOTSTRAP = String.raw`import decimal
import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

_API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
_BASE = "/2018-06-01/runtime/"
_conn = None
_request_id = None


def _request(method, path, body=None, headers=None):
    global _conn
    for attempt in (0, 1):
        if _conn is None:
            _conn = http.client.HTTPConnection(_API)
        try:
            _conn.request(method, _BASE + path, body=body, headers=headers or {})
            r = _conn.getresponse()
            return r.status, r.headers, r.read()
        except (http.client.HTTPException, ConnectionError):
            _conn.close()
            _conn = None
            if attempt:
                raise


def _post(path, body, error_type=None):
    headers = {"Content-Type": "application/json"}
    if error_type:
        headers["Lambda-Runtime-Function-Error-Type"] = error_type
    if isinstance(body, str):
        body = body.encode("utf-8")
    status, _, rbody = _request("POST", path, body, headers)
    if status >= 300 and status != 413:
        sys.stderr.write("Runtime API answered %d to %s: %r\n" % (status, path, rbody))


class FaultException(Exception):
    def __init__(self, exception_type, msg, trace=None):
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


class _Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            return float(o) if o != o.to_integral_value() else int(o)
        return super().default(o)


def _to_json(obj):
    return json.dumps(obj, cls=_Encoder)


def _make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    frames = traceback.extract_tb(tb)
    for i, f in enumerate(frames):
        if not f.filename.endswith("/bootstrap.py"):
            return frames[i:]
    return frames


def _fault_from_exc(exc_info, request_id=None):
    etype, value, tb = exc_info
    return _make_error(str(value), etype.__name__, traceback.format_list(_user_frames(tb)), request_id)


def _log_error(err):
    if _JSON_LOGS:
        doc = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "ERROR"}
        doc.update(err)
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    desc = "[ERROR]"
    if err.get("errorType"):
        desc += " " + err["errorType"]
    if err.get("errorMessage"):
        if err.get("errorType"):
            desc += ":"
        desc += " " + err["errorMessage"]
    lines = [desc]
    stack = err.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")


def _get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException("Runtime.MalformedHandlerName", "Bad handler '{}': {}".format(handler, str(e)))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException("Runtime.BuiltInModuleConflict", "Cannot use built-in module {} as a handler module".format(modname))
        m = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException("Runtime.ImportModuleError", "Unable to import module '{}': {}".format(modname, str(e)))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException("Runtime.UserCodeSyntaxError", "Syntax error in module '{}': {}".format(modname, str(e)), trace)
    try:
        return getattr(m, fname)
    except AttributeError:
        raise FaultException("Runtime.HandlerNotFound", "Handler '{}' missing on module '{}'".format(fname, modname))


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]


def _obj(cls, d):
    if d is None:
        return None
    o = cls()
    for f in cls.__slots__:
        setattr(o, f, d.get(f))
    return o


class LambdaContext(object):
    def __init__(self, request_id, client_context, identity, deadline_ms, invoked_function_arn):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = _obj(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj(Client, self.client_context.client)
        self.identity = _obj(CognitoIdentity, {})
        if identity is not None:
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        delta = self._deadline_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id or ""
        return True


class _LambdaHandler(logging.Handler):
    def emit(self, record):
        sys.stdout.write(self.format(record))


class _JsonFormatter(logging.Formatter):
    def format(self, record):
        doc = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", ""),
        }
        if record.exc_info and record.exc_info[0] is not None:
            doc["errorType"] = record.exc_info[0].__name__
            doc["errorMessage"] = str(record.exc_info[1])
            doc["stackTrace"] = traceback.format_tb(record.exc_info[2])
        return json.dumps(doc, default=str) + "\n"


_JSON_LOGS = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"


def _setup_logging():
    logging.Formatter.converter = time.gmtime
    h = _LambdaHandler()
    if _JSON_LOGS:
        h.setFormatter(_JsonFormatter())
    else:
        h.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"))
    h.addFilter(_RequestIdFilter())
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    root = logging.getLogger()
    if level in logging._nameToLevel:
        root.setLevel(level)
    root.addHandler(h)


def _parse_header(value, name):
    if not value:
        return None
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultException("Runtime.LambdaContextUnmarshalError", "Unable to parse {} JSON: {}".format(name, str(e)))


def _handle(handler, request_id, headers, body):
    error = None
    try:
        ctx = LambdaContext(
            request_id,
            _parse_header(headers.get("Lambda-Runtime-Client-Context"), "Client Context"),
            _parse_header(headers.get("Lambda-Runtime-Cognito-Identity"), "Cognito Identity"),
            int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
            headers.get("Lambda-Runtime-Invoked-Function-Arn"),
        )
        try:
            event = json.loads(body) if body else None
        except Exception as e:
            raise FaultException("Runtime.UnmarshalError", "Unable to unmarshal input: {}".format(str(e)))
        result = handler(event, ctx)
        if isinstance(result, bytes):
            out = result
        else:
            try:
                out = _to_json(result).encode("utf-8")
            except Exception as e:
                raise FaultException("Runtime.MarshalError", "Unable to marshal response: {}".format(str(e)))
    except FaultException as e:
        error = _make_error(e.msg, e.exception_type, e.trace, request_id)
    except Exception:
        error = _fault_from_exc(sys.exc_info(), request_id)
    if error is not None:
        _log_error(error)
        _post("invocation/%s/error" % request_id, _to_json(error), error["errorType"])
    else:
        _post("invocation/%s/response" % request_id, out)


def main():
    global _request_id
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())
    _setup_logging()
    try:
        handler = _get_handler(os.environ.get("_HANDLER", ""))
    except FaultException as e:
        err = _make_error(e.msg, e.exception_type, e.trace)
        _log_error(err)
        _post("init/error", _to_json(err), err["errorType"])
        sys.exit(1)
    except Exception:
        err = _fault_from_exc(sys.exc_info())
        _log_error(err)
        _post("init/error", _to_json(err), err["errorType"])
        sys.exit(1)
    while True:
        status, headers, body = _request("GET", "invocation/next")
        if status != 200:
            sys.stderr.write("Runtime API answered %d to invocation/next\n" % status)
            sys.exit(1)
        _request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        trace = headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        _handle(handler, _request_id, headers, body)


main()
`;
