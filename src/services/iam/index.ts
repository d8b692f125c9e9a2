import { loadModel } from '../../protocol/model.js';
import { QueryCodec } from '../../protocol/query.js';
import type { ServiceDef } from '../types.js';
import { arn, op } from './table.js';
import * as users from './users.js';
import * as roles from './roles.js';
import * as policies from './policies.js';
import { simulateCustomPolicy, simulatePrincipalPolicy } from './simulate.js';
import { mfaOperations } from './mfa.js';
import { loginOperations } from './login.js';
import { passwordPolicyOperations } from './password-policy.js';
import { credentialReportOperations } from './credential-report.js';
import { accountOperations } from './account.js';
import { resourceTagOperations } from './resource-tags.js';
import { instanceProfileOperations } from './instance-profiles.js';
import { serviceLinkedRoleOperations } from './service-linked-roles.js';
import { contextKeyOperations } from './context-keys.js';

/** IAM (query protocol): operation → handler, IAM action and resource ARN. */
export const iamService: ServiceDef = {
  name: 'iam',
  signingNames: ['iam'],
  model: () => loadModel('iam'),
  codec: new QueryCodec(),
  authErrors: { unknownKey: 'InvalidClientTokenId', badSignature: 'SignatureDoesNotMatch' },
  requestIdStyle: 'amzn',
  maxBodyBytes: 1 << 20,
  operations: {
    CreateUser: op(users.createUser, 'CreateUser', arn.user),
    GetUser: op(users.getUser, 'GetUser', arn.user),
    ListUsers: op(users.listUsers, 'ListUsers'),
    UpdateUser: op(users.updateUser, 'UpdateUser', arn.user),
    DeleteUser: op(users.deleteUser, 'DeleteUser', arn.user),
    CreateGroup: op(users.createGroup, 'CreateGroup', arn.group),
    GetGroup: op(users.getGroup, 'GetGroup', arn.group),
    ListGroups: op(users.listGroups, 'ListGroups'),
    ListGroupsForUser: op(users.listGroupsForUser, 'ListGroupsForUser', arn.user),
    AddUserToGroup: op(users.addUserToGroup, 'AddUserToGroup', arn.group),
    RemoveUserFromGroup: op(users.removeUserFromGroup, 'RemoveUserFromGroup', arn.group),
    DeleteGroup: op(users.deleteGroup, 'DeleteGroup', arn.group),
    CreateAccessKey: op(users.createAccessKey, 'CreateAccessKey', arn.user),
    ListAccessKeys: op(users.listAccessKeys, 'ListAccessKeys', arn.user),
    UpdateAccessKey: op(users.updateAccessKey, 'UpdateAccessKey', arn.user),
    DeleteAccessKey: op(users.deleteAccessKey, 'DeleteAccessKey', arn.user),
    GetAccessKeyLastUsed: op(users.getAccessKeyLastUsed, 'GetAccessKeyLastUsed', arn.user),
    CreateRole: op(roles.createRole, 'CreateRole', arn.role),
    GetRole: op(roles.getRole, 'GetRole', arn.role),
    ListRoles: op(roles.listRoles, 'ListRoles'),
    UpdateRole: op(roles.updateRole, 'UpdateRole', arn.role),
    UpdateAssumeRolePolicy: op(roles.updateAssumeRolePolicy, 'UpdateAssumeRolePolicy', arn.role),
    DeleteRole: op(roles.deleteRole, 'DeleteRole', arn.role),
    TagRole: op(roles.tagRole, 'TagRole', arn.role),
    UntagRole: op(roles.untagRole, 'UntagRole', arn.role),
    ListRoleTags: op(roles.listRoleTags, 'ListRoleTags', arn.role),
    CreatePolicy: op(policies.createPolicy, 'CreatePolicy', arn.policy),
    GetPolicy: op(policies.getPolicy, 'GetPolicy', arn.policy),
    ListPolicies: op(policies.listPolicies, 'ListPolicies'),
    DeletePolicy: op(policies.deletePolicy, 'DeletePolicy', arn.policy),
    CreatePolicyVersion: op(policies.createPolicyVersion, 'CreatePolicyVersion', arn.policy),
    GetPolicyVersion: op(policies.getPolicyVersion, 'GetPolicyVersion', arn.policy),
    ListPolicyVersions: op(policies.listPolicyVersions, 'ListPolicyVersions', arn.policy),
    DeletePolicyVersion: op(policies.deletePolicyVersion, 'DeletePolicyVersion', arn.policy),
    SetDefaultPolicyVersion: op(policies.setDefaultPolicyVersion, 'SetDefaultPolicyVersion', arn.policy),
    ListEntitiesForPolicy: op(policies.listEntitiesForPolicy, 'ListEntitiesForPolicy', arn.policy),
    AttachUserPolicy: op(policies.userPolicies.attach, 'AttachUserPolicy', arn.user),
    DetachUserPolicy: op(policies.userPolicies.detach, 'DetachUserPolicy', arn.user),
    ListAttachedUserPolicies: op(policies.userPolicies.listAttached, 'ListAttachedUserPolicies', arn.user),
    PutUserPolicy: op(policies.userPolicies.putInline, 'PutUserPolicy', arn.user),
    GetUserPolicy: op(policies.userPolicies.getInline, 'GetUserPolicy', arn.user),
    DeleteUserPolicy: op(policies.userPolicies.deleteInline, 'DeleteUserPolicy', arn.user),
    ListUserPolicies: op(policies.userPolicies.listInline, 'ListUserPolicies', arn.user),
    PutUserPermissionsBoundary: op(policies.userPolicies.putBoundary, 'PutUserPermissionsBoundary', arn.user),
    DeleteUserPermissionsBoundary: op(policies.userPolicies.deleteBoundary, 'DeleteUserPermissionsBoundary', arn.user),
    AttachGroupPolicy: op(policies.groupPolicies.attach, 'AttachGroupPolicy', arn.group),
    DetachGroupPolicy: op(policies.groupPolicies.detach, 'DetachGroupPolicy', arn.group),
    ListAttachedGroupPolicies: op(policies.groupPolicies.listAttached, 'ListAttachedGroupPolicies', arn.group),
    PutGroupPolicy: op(policies.groupPolicies.putInline, 'PutGroupPolicy', arn.group),
    GetGroupPolicy: op(policies.groupPolicies.getInline, 'GetGroupPolicy', arn.group),
    DeleteGroupPolicy: op(policies.groupPolicies.deleteInline, 'DeleteGroupPolicy', arn.group),
    ListGroupPolicies: op(policies.groupPolicies.listInline, 'ListGroupPolicies', arn.group),
    AttachRolePolicy: op(policies.rolePolicies.attach, 'AttachRolePolicy', arn.role),
    DetachRolePolicy: op(policies.rolePolicies.detach, 'DetachRolePolicy', arn.role),
    ListAttachedRolePolicies: op(policies.rolePolicies.listAttached, 'ListAttachedRolePolicies', arn.role),
    PutRolePolicy: op(policies.rolePolicies.putInline, 'PutRolePolicy', arn.role),
    GetRolePolicy: op(policies.rolePolicies.getInline, 'GetRolePolicy', arn.role),
    DeleteRolePolicy: op(policies.rolePolicies.deleteInline, 'DeleteRolePolicy', arn.role),
    ListRolePolicies: op(policies.rolePolicies.listInline, 'ListRolePolicies', arn.role),
    PutRolePermissionsBoundary: op(policies.rolePolicies.putBoundary, 'PutRolePermissionsBoundary', arn.role),
    DeleteRolePermissionsBoundary: op(policies.rolePolicies.deleteBoundary, 'DeleteRolePermissionsBoundary', arn.role),
    SimulatePrincipalPolicy: op(simulatePrincipalPolicy, 'SimulatePrincipalPolicy', (i: { PolicySourceArn: string }) => i.PolicySourceArn),
    SimulateCustomPolicy: op(simulateCustomPolicy, 'SimulateCustomPolicy'),
    ...mfaOperations,
    ...loginOperations,
    ...passwordPolicyOperations,
    ...credentialReportOperations,
    ...accountOperations,
    ...resourceTagOperations,
    ...instanceProfileOperations,
    ...serviceLinkedRoleOperations,
    ...contextKeyOperations,
  },
};
