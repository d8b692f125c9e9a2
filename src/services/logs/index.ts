import { loadModel } from '../../protocol/model.js';
import { JsonCodec } from '../../protocol/json.js';
import { constraintViolations, typeMismatch } from '../../protocol/constraints.js';
import { requestTagKeys } from '../../server/authorize.js';
import { isServiceError } from '../../protocol/errors.js';
import type { RequestContext } from '../../server/context.js';
import type { ContextValue } from '../../iam/engine/types.js';
import type { OperationImpl, ServiceDef } from '../types.js';
import { LogsErrors } from './errors.js';
import { account, groupAuthArn, groupRefLoose, parseGroupArn, streamArn } from './common.js';
import * as groups from './groups.js';
import * as streams from './streams.js';
import * as events from './events.js';

export { appendLogEvents } from './ingest.js';

/**
 * CloudWatch Logs (awsJson 1.1, target prefix Logs_20140328): operation → handler, IAM
 * action and the resource it is authorized on. Operations of the model not listed answer
 * 501 NotImplemented.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
 */
type Input = Record<string, any>;
const model = () => loadModel('logs');

/**
 * The model's constraints. AWS reports an over-long group or stream name in words of its
 * own; the rest in the generic form.
 */
function check(opName: string, input: Input): void {
  const ref = model().operations[opName]!.input!;
  const mismatch = typeMismatch(model(), ref, input);
  if (mismatch) throw LogsErrors.SerializationException({ message: mismatch });
  const problems = constraintViolations(model(), ref, input);
  if (problems) {
    if (/at '(logGroupName|logStreamName)' failed to satisfy constraint: Member must have length less than or equal to 512/.test(problems)) {
      throw LogsErrors.InvalidParameterException({ message: 'Invalid LogGroup or LogStream, both must have length less than or equal to 512.' });
    }
    throw LogsErrors.InvalidParameterException({ message: problems });
  }
}

type Resource = (i: Input, ctx: RequestContext) => string;

/**
 * An operation: constraints first (as AWS validates before it authorizes), then the IAM
 * check, then the handler. The check is made here rather than by the pipeline so that a
 * denial is Logs' own AccessDeniedException (HTTP 400), not the generic AccessDenied.
 */
function op(name: string, handler: OperationImpl['handler'], resource: Resource, conditions?: OperationImpl['conditions']): OperationImpl {
  const action = `logs:${name}`;
  return {
    action,
    resource,
    conditions,
    selfAuthorized: true,
    handler: async (i, ctx) => {
      check(name, i);
      try {
        await ctx.authorize(action, resource(i, ctx), conditions?.(i, ctx));
      } catch (e) {
        if (isServiceError(e) && e.code === 'AccessDenied') throw LogsErrors.AccessDeniedException({ message: e.message });
        throw e;
      }
      return handler(i, ctx);
    },
  };
}

const here = (ctx: RequestContext, name: string) => ({ account: account(ctx), region: ctx.region, name });
/** Group-level actions: "…:log-group:<name>:log-stream:" (see groupAuthArn). */
const onGroup: Resource = (i, ctx) => groupAuthArn(groupRefLoose(i, ctx));
const onGroupId: Resource = (i, ctx) => groupAuthArn(i.logGroupIdentifier?.startsWith('arn:') ? (parseGroupArn(i.logGroupIdentifier) ?? here(ctx, '')) : here(ctx, i.logGroupIdentifier ?? ''));
const onStream: Resource = (i, ctx) => streamArn(groupRefLoose(i, ctx), i.logStreamName ?? '');
/** DescribeLogGroups names no group: AWS evaluates it on "…:log-group::log-stream:". */
const onAccount: Resource = (_i, ctx) => groupAuthArn(here(ctx, ''));
/** The tagging APIs take the ARN without ":*", and are authorized on exactly that. */
const onArn: Resource = (i) => i.resourceArn ?? '*';

const mapTags = (tags: Record<string, string> | undefined) => requestTagKeys(tags ? Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) : undefined);
const setsTags = (i: Input): Record<string, ContextValue | undefined> => mapTags(i.tags);
const removesTags = (keys: string[] | undefined): Record<string, ContextValue | undefined> => (keys?.length ? { 'aws:TagKeys': keys } : {});

export const logsService: ServiceDef = {
  name: 'logs',
  signingNames: ['logs'],
  model,
  codec: new JsonCodec(),
  authErrors: { unknownKey: 'UnrecognizedClientException', badSignature: 'InvalidSignatureException' },
  requestIdStyle: 'amzn',
  // A PutLogEvents batch is at most 1 MiB of messages, plus JSON framing.
  maxBodyBytes: 8 << 20,
  operations: {
    CreateLogGroup: op('CreateLogGroup', groups.createLogGroup, onGroup, setsTags),
    DeleteLogGroup: op('DeleteLogGroup', groups.deleteLogGroup, onGroup),
    DescribeLogGroups: op('DescribeLogGroups', groups.describeLogGroups, onAccount),
    PutRetentionPolicy: op('PutRetentionPolicy', groups.putRetentionPolicy, onGroup),
    DeleteRetentionPolicy: op('DeleteRetentionPolicy', groups.deleteRetentionPolicy, onGroup),
    PutLogGroupDeletionProtection: op('PutLogGroupDeletionProtection', groups.putLogGroupDeletionProtection, onGroupId),
    TagLogGroup: op('TagLogGroup', groups.tagLogGroup, onGroup, setsTags),
    UntagLogGroup: op('UntagLogGroup', groups.untagLogGroup, onGroup, (i) => removesTags(i.tags)),
    ListTagsLogGroup: op('ListTagsLogGroup', groups.listTagsLogGroup, onGroup),
    TagResource: op('TagResource', groups.tagResource, onArn, setsTags),
    UntagResource: op('UntagResource', groups.untagResource, onArn, (i) => removesTags(i.tagKeys)),
    ListTagsForResource: op('ListTagsForResource', groups.listTagsForResource, onArn),
    CreateLogStream: op('CreateLogStream', streams.createLogStream, onStream),
    DeleteLogStream: op('DeleteLogStream', streams.deleteLogStream, onStream),
    DescribeLogStreams: op('DescribeLogStreams', streams.describeLogStreams, onGroup),
    PutLogEvents: op('PutLogEvents', events.putLogEvents, onStream),
    GetLogEvents: op('GetLogEvents', events.getLogEvents, onStream),
    FilterLogEvents: op('FilterLogEvents', events.filterLogEvents, onGroup),
  },
};
