import type { RequestContext } from '../../server/context.js';
import { iamId, uuid } from '../../util/ids.js';
import { IamErrors } from './errors.js';
import { account, iam, isoNow } from './common.js';
import type { AccountDoc, RoleDoc } from './state.js';
import { op } from './table.js';
import { requireRole, roleOut } from './roles.js';

/**
 * Service-linked roles: roles a service owns, under /aws-service-role/<service>/, trusted by
 * that service alone, changed only through these operations (the others answer
 * UnmodifiableEntity, see roles.ts assertModifiableRole).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
 *
 * Role names: AWS gives each service its own (AWSServiceRoleForLexBots for
 * lex.amazonaws.com). The services whose names do not follow from the principal are
 * listed below; any other principal `a.b.amazonaws.com` is named AWSServiceRoleForAB
 * (each label PascalCased, `-` splitting words). CustomSuffix is appended as `_<suffix>`,
 * as AWS names AWSServiceRoleForAutoScaling_custom. Nimbus has no per-service managed
 * policies for these roles, so none is attached.
 */
type Input = Record<string, any>;

const ROLE_NAMES: Record<string, string> = {
  'apigateway.amazonaws.com': 'APIGateway',
  'apidestinations.events.amazonaws.com': 'AmazonEventBridgeApiDestinations',
  'autoscaling.amazonaws.com': 'AutoScaling',
  'cloudtrail.amazonaws.com': 'CloudTrail',
  'config.amazonaws.com': 'Config',
  'dynamodb.application-autoscaling.amazonaws.com': 'ApplicationAutoScaling_DynamoDBTable',
  'ecs.amazonaws.com': 'ECS',
  'ecs.application-autoscaling.amazonaws.com': 'ApplicationAutoScaling_ECSService',
  'eks.amazonaws.com': 'AmazonEKS',
  'eks-nodegroup.amazonaws.com': 'AmazonEKSNodegroup',
  'elasticache.amazonaws.com': 'ElastiCache',
  'elasticbeanstalk.amazonaws.com': 'ElasticBeanstalk',
  'elasticloadbalancing.amazonaws.com': 'ElasticLoadBalancing',
  'elasticmapreduce.amazonaws.com': 'EMRCleanup',
  'es.amazonaws.com': 'AmazonElasticsearchService',
  'guardduty.amazonaws.com': 'AmazonGuardDuty',
  'lex.amazonaws.com': 'LexBots',
  'opensearchservice.amazonaws.com': 'AmazonOpenSearchService',
  'organizations.amazonaws.com': 'Organizations',
  'rds.amazonaws.com': 'RDS',
  'replicator.lambda.amazonaws.com': 'LambdaReplicator',
  'securityhub.amazonaws.com': 'SecurityHub',
  'spot.amazonaws.com': 'EC2Spot',
  'spotfleet.amazonaws.com': 'EC2SpotFleet',
  'ssm.amazonaws.com': 'AmazonSSM',
  'sso.amazonaws.com': 'SSO',
  'transitgateway.amazonaws.com': 'VPCTransitGateway',
};

const SERVICE_PRINCIPAL = /^([a-z0-9][a-z0-9-]*\.)+amazonaws\.com(\.cn)?$/;
const SUFFIX = /^[\w+=,.@-]{1,64}$/;

/** AWSServiceRoleFor<Service>[_<suffix>]. */
export function serviceLinkedRoleName(service: string, suffix?: string): string {
  const base =
    ROLE_NAMES[service] ??
    service
      .replace(/\.amazonaws\.com(\.cn)?$/, '')
      .split(/[.-]/)
      .filter(Boolean)
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join('');
  return `AWSServiceRoleFor${base}${suffix ? `_${suffix}` : ''}`;
}

function settings(doc: AccountDoc | undefined): AccountDoc {
  return doc ?? { Aliases: [] };
}

export async function createServiceLinkedRole(input: Input, ctx: RequestContext) {
  const service = String(input.AWSServiceName ?? '');
  if (!SERVICE_PRINCIPAL.test(service)) throw IamErrors.InvalidInput({ message: `Invalid service principal: ${service}. It must be a service principal such as elasticbeanstalk.amazonaws.com.` });
  if (input.CustomSuffix !== undefined && !SUFFIX.test(input.CustomSuffix)) {
    throw IamErrors.ValidationError({ message: `1 validation error detected: Value '${input.CustomSuffix}' at 'customSuffix' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+` });
  }
  if (input.Description !== undefined && String(input.Description).length > 1000) {
    throw IamErrors.ValidationError({ message: `1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000` });
  }
  const name = serviceLinkedRoleName(service, input.CustomSuffix);
  if (name.length > 64) throw IamErrors.InvalidInput({ message: `The role name ${name} is longer than 64 characters; use a shorter suffix.` });
  const path = `/aws-service-role/${service}/`;
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: [service] }, Action: ['sts:AssumeRole'] }] };
  const role: RoleDoc = {
    RoleName: name,
    RoleId: iamId('AROA'),
    Arn: `arn:aws:iam::${account(ctx)}:role${path}${name}`,
    Path: path,
    CreateDate: isoNow(),
    AssumeRolePolicyDocument: JSON.stringify(trust),
    Description: input.Description,
    MaxSessionDuration: 3600,
    Tags: [],
    AttachedPolicies: [],
    InlinePolicies: {},
    AwsServiceName: service,
  };
  await iam(ctx).write(async (tx) => {
    if (iam(ctx).list('role').some((r) => r.RoleName.toLowerCase() === name.toLowerCase())) {
      throw IamErrors.InvalidInput({ message: `Service role name ${name} has been taken in this account, please try a different suffix.` });
    }
    await tx.put('role', name, role);
  });
  return { Role: roleOut(role) };
}

/**
 * The service would first check that no resource still uses the role; Nimbus has none that
 * can, so the deletion succeeds at once and its task reads SUCCEEDED.
 */
export async function deleteServiceLinkedRole(input: Input, ctx: RequestContext) {
  const role = requireRole(ctx, input.RoleName);
  if (!role.AwsServiceName) throw IamErrors.NoSuchEntity({ message: `The role with name ${role.RoleName} is not a service-linked role.` });
  const taskId = `task${role.Path}${role.RoleName}/${uuid()}`;
  await iam(ctx).write(async (tx) => {
    const acct = settings(await tx.get('account', 'settings'));
    // Keep the most recent tasks only: their ids are all GetServiceLinkedRoleDeletionStatus needs.
    const tasks = Object.entries(acct.DeletionTasks ?? {}).slice(-99);
    await tx.put('account', 'settings', {
      ...acct,
      DeletionTasks: { ...Object.fromEntries(tasks), [taskId]: { RoleName: role.RoleName, Status: 'SUCCEEDED', CreateDate: isoNow() } },
    });
    await tx.delete('role', role.RoleName);
  });
  return { DeletionTaskId: taskId };
}

export function getServiceLinkedRoleDeletionStatus(input: Input, ctx: RequestContext) {
  const id = String(input.DeletionTaskId ?? '');
  if (!/^task\/aws-service-role\/[^/]+\/[\w+=,.@-]+\/[0-9a-f-]{36}$/.test(id)) throw IamErrors.InvalidInput({ message: `Invalid deletion task id: ${id}` });
  const task = iam(ctx).get('account', 'settings')?.DeletionTasks?.[id];
  if (!task) throw IamErrors.NoSuchEntity({ message: `Deletion task ${id} cannot be found.` });
  return { Status: task.Status };
}

const roleArn = (service: string, name: string, ctx: RequestContext) => `arn:aws:iam::${account(ctx)}:role/aws-service-role/${service}/${name}`;

export const serviceLinkedRoleOperations = {
  CreateServiceLinkedRole: {
    ...op(createServiceLinkedRole, 'CreateServiceLinkedRole', (i: Input, ctx: RequestContext) => roleArn(i.AWSServiceName, serviceLinkedRoleName(i.AWSServiceName ?? '', i.CustomSuffix), ctx)),
    // Policies can limit which services may create their roles.
    conditions: (i: Input) => ({ 'iam:AWSServiceName': i.AWSServiceName }),
  },
  DeleteServiceLinkedRole: op(deleteServiceLinkedRole, 'DeleteServiceLinkedRole', (i: Input, ctx: RequestContext) => iam(ctx).get('role', i.RoleName)?.Arn ?? `arn:aws:iam::${account(ctx)}:role/${i.RoleName}`),
  GetServiceLinkedRoleDeletionStatus: op(getServiceLinkedRoleDeletionStatus, 'GetServiceLinkedRoleDeletionStatus'),
};
