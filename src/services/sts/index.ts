import { loadModel } from '../../protocol/model.js';
import { QueryCodec } from '../../protocol/query.js';
import type { RequestContext } from '../../server/context.js';
import type { ServiceDef } from '../types.js';

/** STS. GetCallerIdentity now; AssumeRole and the rest arrive with IAM. */
function getCallerIdentity(_input: unknown, ctx: RequestContext) {
  const p = ctx.principal!;
  return { UserId: p.userId, Account: p.accountId, Arn: p.arn };
}

export const stsService: ServiceDef = {
  name: 'sts',
  signingNames: ['sts'],
  model: () => loadModel('sts'),
  codec: new QueryCodec(),
  authErrors: { unknownKey: 'InvalidClientTokenId', badSignature: 'SignatureDoesNotMatch' },
  requestIdStyle: 'amzn',
  maxBodyBytes: 1 << 20,
  operations: {
    GetCallerIdentity: { handler: getCallerIdentity, action: 'sts:GetCallerIdentity' },
  },
};
