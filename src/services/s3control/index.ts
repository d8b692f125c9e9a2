import { loadModel } from '../../protocol/model.js';
import { RestXmlCodec } from '../../protocol/rest-xml.js';
import { CommonErrors, defineErrors } from '../../protocol/errors.js';
import type { RequestContext } from '../../server/context.js';
import type { ServiceDef } from '../types.js';
import { publicAccessBlockOf, type PublicAccessBlock } from '../s3/bucket-policy.js';
import { S3Errors } from '../s3/errors.js';

/**
 * S3 Control, for what an account sets for all its buckets: account-level Block Public
 * Access. It is signed as "s3" and told apart from S3 by its /v20180820/ paths; clients
 * put the account id in the host (`<account>.localhost`) and in x-amz-account-id.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PutPublicAccessBlock.html
 */
export const S3ControlErrors = {
  ...CommonErrors,
  ...defineErrors({
    NoSuchPublicAccessBlockConfiguration: { status: 404, message: 'The public access block configuration was not found' },
  }),
};

type Input = { AccountId: string; PublicAccessBlockConfiguration?: Partial<PublicAccessBlock> };

/** An account's own settings only: another account's id is AccessDenied. */
function accountSettings(input: Input, ctx: RequestContext) {
  const p = ctx.principal!;
  if (input.AccountId !== p.accountId) {
    throw S3ControlErrors.AccessDenied({ message: `User: ${p.arn} is not authorized to perform this operation on account ${input.AccountId}` });
  }
  return ctx.runtime.iam.forAccount(p.accountId);
}

/** The account-level Block Public Access settings of `accountId`, if set. */
export function accountPublicAccessBlock(ctx: RequestContext, accountId: string): PublicAccessBlock | undefined {
  return ctx.runtime.iam.forAccount(accountId).get('account', 'settings')?.S3PublicAccessBlock;
}

async function putPublicAccessBlock(input: Input, ctx: RequestContext) {
  const state = accountSettings(input, ctx);
  const pab = publicAccessBlockOf(input.PublicAccessBlockConfiguration);
  await state.write(async (tx) => {
    const doc = (await tx.get('account', 'settings')) ?? { Aliases: [] };
    await tx.put('account', 'settings', { ...doc, S3PublicAccessBlock: pab });
  });
  return {};
}

function getPublicAccessBlock(input: Input, ctx: RequestContext) {
  const pab = accountSettings(input, ctx).get('account', 'settings')?.S3PublicAccessBlock;
  if (!pab) throw S3ControlErrors.NoSuchPublicAccessBlockConfiguration();
  return { PublicAccessBlockConfiguration: pab };
}

async function deletePublicAccessBlock(input: Input, ctx: RequestContext) {
  const state = accountSettings(input, ctx);
  await state.write(async (tx) => {
    const doc = await tx.get('account', 'settings');
    if (doc?.S3PublicAccessBlock) await tx.put('account', 'settings', { ...doc, S3PublicAccessBlock: undefined });
  });
  ctx.statusOverride = 204;
  return {};
}

export const s3controlService: ServiceDef = {
  name: 's3control',
  signingNames: ['s3'],
  model: () => loadModel('s3control'),
  codec: new RestXmlCodec({
    xmlNamespace: 'http://awss3control.amazonaws.com/doc/2018-08-20/',
    malformedXml: () => S3Errors.MalformedXML(),
  }),
  authErrors: { unknownKey: 'InvalidAccessKeyId', badSignature: 'SignatureDoesNotMatch' },
  requestIdStyle: 's3',
  maxBodyBytes: 1 << 20,
  operations: {
    PutPublicAccessBlock: { handler: putPublicAccessBlock, action: 's3:PutAccountPublicAccessBlock', resource: () => '*' },
    GetPublicAccessBlock: { handler: getPublicAccessBlock, action: 's3:GetAccountPublicAccessBlock', resource: () => '*' },
    DeletePublicAccessBlock: { handler: deletePublicAccessBlock, action: 's3:PutAccountPublicAccessBlock', resource: () => '*' },
  },
};
