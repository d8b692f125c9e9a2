// AWS managed policies that Nimbus ships as read-only, account-independent policies
// (arn:aws:iam::aws:policy/...). The documents, paths, descriptions, version ids and
// policy ids are AWS's published data, reproduced as data.
//
// Sources (see also the notes on individual entries):
//   - AWS Managed Policy Reference Guide,
//     https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<Name>.html
//     (description, path/ARN, current default version, creation/edit time, document).
//   - Policy ids and creation times to the second: `aws iam get-policy` output as
//     recorded by glassechidna/trackiam (policies/<Name>.json); the older ids are
//     cross-checked against the policy list in wallix/awless (aws/spec/policy.go).
//   - Version create dates to the second (= UpdateDate): `aws iam get-policy-version`
//     output as recorded by zoph-io/MAMIP (policies/<Name>), cross-checked against the
//     reference guide's version number and edit time.
// All policy ids below are AWS's real ids; none is derived.
//
// Dates are ISO-8601 UTC as IAM returns them. Where only the reference guide had the
// current version, its edit time is given to the minute (seconds set to :00) and the
// entry says so.

export interface AwsManagedPolicy {
  name: string;
  path: string;
  arn: string;
  policyId: string;
  description: string;
  defaultVersionId: string;
  createDate: string;
  updateDate: string;
  document: { Version: string; Statement: unknown[] };
}

interface Entry extends Omit<AwsManagedPolicy, 'arn'> {}

function policy(e: Entry): AwsManagedPolicy {
  return {
    name: e.name,
    path: e.path,
    arn: `arn:aws:iam::aws:policy${e.path}${e.name}`,
    policyId: e.policyId,
    description: e.description,
    defaultVersionId: e.defaultVersionId,
    createDate: e.createDate,
    updateDate: e.updateDate,
    document: e.document,
  };
}

export const AWS_MANAGED_POLICIES: AwsManagedPolicy[] = [
  policy({
    name: 'AdministratorAccess',
    path: '/',
    policyId: 'ANPAIWMBCKSKIEE64ZLYK',
    description: 'Provides full access to AWS services and resources.',
    defaultVersionId: 'v1',
    createDate: '2015-02-06T18:39:46Z',
    updateDate: '2015-02-06T18:39:46Z',
    document: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    },
  }),
  policy({
    name: 'PowerUserAccess',
    path: '/',
    policyId: 'ANPAJYRXTHIB4FOVS3ZXS',
    description: 'Provides full access to AWS services and resources, but does not allow management of Users and groups.',
    defaultVersionId: 'v12',
    createDate: '2015-02-06T18:39:47Z',
    updateDate: '2026-02-12T17:59:14Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
        {
          Effect: 'Allow',
          Action: [
            'account:GetAccountInformation',
            'account:GetGovCloudAccountInformation',
            'account:GetPrimaryEmail',
            'account:ListRegions',
            'iam:CreateServiceLinkedRole',
            'iam:DeleteServiceLinkedRole',
            'iam:ListRoles',
            'organizations:DescribeEffectivePolicy',
            'organizations:DescribeOrganization',
          ],
          Resource: '*',
        },
      ],
    },
  }),
  // ReadOnlyAccess: AWS's current default version (v185, edited 2026-05-18 15:42 UTC per the
  // reference guide) is several statements and thousands of actions; its full current text
  // was not available here. The metadata below is real, but the DOCUMENT IS A SUBSET: it keeps
  // only the entries the real policy grants for the services Nimbus implements (s3, iam, sts,
  // lambda, apigateway, events, sqs, logs), copied from the last full text we could read
  // (v87, 2022-05-23). The real policy grants nothing for execute-api (Invoke and
  // ManageConnections are not read actions), so neither does this subset.
  policy({
    name: 'ReadOnlyAccess',
    path: '/',
    policyId: 'ANPAILL3HVNFSB6DCOWYQ',
    description: 'Provides read-only access to AWS services and resources.',
    defaultVersionId: 'v185',
    createDate: '2015-02-06T18:39:48Z',
    updateDate: '2026-05-18T15:42:00Z', // reference guide edit time, minute precision
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'apigateway:GET',
            'events:Describe*',
            'events:List*',
            'events:Test*',
            'iam:Generate*',
            'iam:Get*',
            'iam:List*',
            'iam:Simulate*',
            'lambda:Get*',
            'lambda:List*',
            'logs:Describe*',
            'logs:FilterLogEvents',
            'logs:Get*',
            'logs:ListTagsLogGroup',
            'logs:StartQuery',
            'logs:StopQuery',
            'logs:TestMetricFilter',
            's3:DescribeJob',
            's3:Get*',
            's3:List*',
            'sqs:Get*',
            'sqs:List*',
            'sqs:Receive*',
            'sts:GetAccessKeyInfo',
            'sts:GetCallerIdentity',
            'sts:GetSessionToken',
          ],
          Resource: '*',
        },
      ],
    },
  }),
  policy({
    name: 'IAMFullAccess',
    path: '/',
    policyId: 'ANPAI7XKCFMBPM3QQRRVQ',
    description: 'Provides full access to IAM via the AWS Management Console.',
    defaultVersionId: 'v2',
    createDate: '2015-02-06T18:40:38Z',
    updateDate: '2019-06-21T19:40:00Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'iam:*',
            'organizations:DescribeAccount',
            'organizations:DescribeOrganization',
            'organizations:DescribeOrganizationalUnit',
            'organizations:DescribePolicy',
            'organizations:ListChildren',
            'organizations:ListParents',
            'organizations:ListPoliciesForTarget',
            'organizations:ListRoots',
            'organizations:ListPolicies',
            'organizations:ListTargetsForPolicy',
          ],
          Resource: '*',
        },
      ],
    },
  }),
  policy({
    name: 'IAMReadOnlyAccess',
    path: '/',
    policyId: 'ANPAJKSO7NDY4T57MWDSQ',
    description: 'Provides read only access to IAM via the AWS Management Console.',
    defaultVersionId: 'v4',
    createDate: '2015-02-06T18:40:39Z',
    updateDate: '2018-01-25T19:11:27Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'iam:GenerateCredentialReport',
            'iam:GenerateServiceLastAccessedDetails',
            'iam:Get*',
            'iam:List*',
            'iam:SimulateCustomPolicy',
            'iam:SimulatePrincipalPolicy',
          ],
          Resource: '*',
        },
      ],
    },
  }),
  // IAMUserChangePassword: v3 of 2025-05-29 added the user/*/ resource, for users with a path.
  policy({
    name: 'IAMUserChangePassword',
    path: '/',
    policyId: 'ANPAJ4L4MM2A7QIEB56MS',
    description: 'Provides the ability for an IAM user to change their own password.',
    defaultVersionId: 'v3',
    createDate: '2016-11-15T00:25:16Z',
    updateDate: '2025-05-29T21:52:06Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['iam:ChangePassword'],
          Resource: ['arn:aws:iam::*:user/${aws:username}', 'arn:aws:iam::*:user/*/${aws:username}'],
        },
        {
          Effect: 'Allow',
          Action: ['iam:GetAccountPasswordPolicy'],
          Resource: '*',
        },
      ],
    },
  }),
  policy({
    name: 'AmazonS3FullAccess',
    path: '/',
    policyId: 'ANPAIFIR6V6BVTRAHWINE',
    description: 'Provides full access to all buckets via the AWS Management Console.',
    defaultVersionId: 'v2',
    createDate: '2015-02-06T18:40:58Z',
    updateDate: '2021-09-27T20:16:37Z',
    document: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*' }],
    },
  }),
  policy({
    name: 'AmazonS3ReadOnlyAccess',
    path: '/',
    policyId: 'ANPAIZTJ4DXE7G6AGAE6M',
    description: 'Provides read only access to all buckets via the AWS Management Console.',
    defaultVersionId: 'v3',
    createDate: '2015-02-06T18:40:59Z',
    updateDate: '2023-08-10T21:31:39Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:Get*', 's3:List*', 's3:Describe*', 's3-object-lambda:Get*', 's3-object-lambda:List*'],
          Resource: '*',
        },
      ],
    },
  }),
  policy({
    name: 'AWSLambda_FullAccess',
    path: '/',
    policyId: 'ANPAZKAPJZG4OXQPYWZ5D',
    description: 'Grants full access to AWS Lambda service, AWS Lambda console features, and other related AWS services.',
    defaultVersionId: 'v5',
    createDate: '2020-11-17T21:14:08Z',
    updateDate: '2026-02-11T22:18:56Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'cloudformation:DescribeStacks',
            'cloudformation:ListStackResources',
            'cloudwatch:ListMetrics',
            'cloudwatch:GetMetricData',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeSubnets',
            'ec2:DescribeVpcs',
            'kms:DescribeKey',
            'kms:ListAliases',
            'iam:GetPolicy',
            'iam:GetPolicyVersion',
            'iam:GetRole',
            'iam:GetRolePolicy',
            'iam:ListAttachedRolePolicies',
            'iam:ListRolePolicies',
            'iam:ListRoles',
            'lambda:*',
            'logs:DescribeLogGroups',
            'states:DescribeStateMachine',
            'states:ListStateMachines',
            'tag:GetResources',
            'xray:GetTraceSummaries',
            'xray:BatchGetTraces',
          ],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: '*',
          Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
        },
        {
          Effect: 'Allow',
          Action: [
            'logs:DescribeLogStreams',
            'logs:GetLogEvents',
            'logs:FilterLogEvents',
            'logs:StartLiveTail',
            'logs:StopLiveTail',
          ],
          Resource: 'arn:aws:logs:*:*:log-group:/aws/lambda/*',
        },
        {
          Effect: 'Allow',
          Action: 'iam:CreateServiceLinkedRole',
          Resource: 'arn:aws:iam::*:role/aws-service-role/lambda.amazonaws.com/AWSServiceRoleForLambda',
          Condition: { StringEquals: { 'iam:AWSServiceName': 'lambda.amazonaws.com' } },
        },
      ],
    },
  }),
  policy({
    name: 'AWSLambda_ReadOnlyAccess',
    path: '/',
    policyId: 'ANPAZKAPJZG4IERNVMNPE',
    description: 'Grants read-only access to AWS Lambda service, AWS Lambda console features, and other related AWS services.',
    defaultVersionId: 'v3',
    createDate: '2020-11-17T21:10:32Z',
    updateDate: '2025-03-17T21:07:00Z', // reference guide edit time, minute precision
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'cloudformation:DescribeStacks',
            'cloudformation:ListStacks',
            'cloudformation:ListStackResources',
            'cloudwatch:GetMetricData',
            'cloudwatch:ListMetrics',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeSubnets',
            'ec2:DescribeVpcs',
            'kms:ListAliases',
            'iam:GetPolicy',
            'iam:GetPolicyVersion',
            'iam:GetRole',
            'iam:GetRolePolicy',
            'iam:ListAttachedRolePolicies',
            'iam:ListRolePolicies',
            'iam:ListRoles',
            'logs:DescribeLogGroups',
            'lambda:Get*',
            'lambda:List*',
            'states:DescribeStateMachine',
            'states:ListStateMachines',
            'tag:GetResources',
            'xray:GetTraceSummaries',
            'xray:BatchGetTraces',
          ],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: [
            'logs:DescribeLogStreams',
            'logs:GetLogEvents',
            'logs:FilterLogEvents',
            'logs:StartQuery',
            'logs:StopQuery',
            'logs:DescribeQueries',
            'logs:GetLogGroupFields',
            'logs:GetLogRecord',
            'logs:GetQueryResults',
            'logs:StartLiveTail',
            'logs:StopLiveTail',
          ],
          Resource: 'arn:aws:logs:*:*:log-group:/aws/lambda/*',
        },
      ],
    },
  }),
  policy({
    name: 'AWSLambdaBasicExecutionRole',
    path: '/service-role/',
    policyId: 'ANPAJNCQGXC42545SKXIK',
    description: 'Provides write permissions to CloudWatch Logs.',
    defaultVersionId: 'v1',
    createDate: '2015-04-09T15:03:43Z',
    updateDate: '2015-04-09T15:03:43Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: '*',
        },
      ],
    },
  }),
  policy({
    name: 'AWSLambdaRole',
    path: '/service-role/',
    policyId: 'ANPAJX4DPCRGTC4NFDUXI',
    description: 'Default policy for AWS Lambda service role.',
    defaultVersionId: 'v1',
    createDate: '2015-02-06T18:41:28Z',
    updateDate: '2015-02-06T18:41:28Z',
    document: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: ['*'] }],
    },
  }),
  policy({
    name: 'AWSLambdaSQSQueueExecutionRole',
    path: '/service-role/',
    policyId: 'ANPAJFWJZI6JNND4TSELK',
    description:
      'Provides receive message, delete message, and read attribute access to SQS queues, and write permissions to CloudWatch logs.',
    defaultVersionId: 'v1',
    createDate: '2018-06-14T21:50:45Z',
    updateDate: '2018-06-14T21:50:45Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'logs:CreateLogGroup',
            'logs:CreateLogStream',
            'logs:PutLogEvents',
          ],
          Resource: '*',
        },
      ],
    },
  }),
  policy({
    name: 'AmazonSQSFullAccess',
    path: '/',
    policyId: 'ANPAI65L554VRJ33ECQS6',
    description: 'Provides full access to Amazon SQS via the AWS Management Console.',
    defaultVersionId: 'v1',
    createDate: '2015-02-06T18:41:07Z',
    updateDate: '2015-02-06T18:41:07Z',
    document: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['sqs:*'], Resource: '*' }],
    },
  }),
  policy({
    name: 'AmazonSQSReadOnlyAccess',
    path: '/',
    policyId: 'ANPAIUGSSQY362XGCM6KW',
    description: 'Provides read only access to Amazon SQS via the AWS Management Console.',
    defaultVersionId: 'v3',
    createDate: '2015-02-06T18:41:08Z',
    updateDate: '2023-06-15T15:37:35Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ListDeadLetterSourceQueues',
            'sqs:ListQueues',
            'sqs:ListMessageMoveTasks',
          ],
          Resource: '*',
        },
      ],
    },
  }),
  policy({
    name: 'CloudWatchLogsFullAccess',
    path: '/',
    policyId: 'ANPAJ3ZGNWK2R5HW5BQFO',
    description: 'Provides full access to CloudWatch Logs',
    defaultVersionId: 'v3',
    createDate: '2015-02-06T18:40:02Z',
    updateDate: '2025-05-20T17:07:06Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'CloudWatchLogsFullAccess',
          Effect: 'Allow',
          Action: ['logs:*', 'cloudwatch:GenerateQuery', 'cloudwatch:GenerateQueryResultsSummary'],
          Resource: '*',
        },
      ],
    },
  }),
  policy({
    name: 'CloudWatchLogsReadOnlyAccess',
    path: '/',
    policyId: 'ANPAJ2YIYDYSNNEHK3VKW',
    description: 'Provides read only access to CloudWatch Logs',
    defaultVersionId: 'v6',
    createDate: '2015-02-06T18:40:03Z',
    updateDate: '2023-11-26T18:11:33Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'CloudWatchLogsReadOnlyAccess',
          Effect: 'Allow',
          Action: [
            'logs:Describe*',
            'logs:Get*',
            'logs:List*',
            'logs:StartQuery',
            'logs:StopQuery',
            'logs:TestMetricFilter',
            'logs:FilterLogEvents',
            'logs:StartLiveTail',
            'logs:StopLiveTail',
            'cloudwatch:GenerateQuery',
          ],
          Resource: '*',
        },
      ],
    },
  }),
  policy({
    name: 'AmazonAPIGatewayAdministrator',
    path: '/',
    policyId: 'ANPAJ4PT6VY5NLKTNUYSI',
    description: 'Provides full access to create/edit/delete APIs in Amazon API Gateway via the AWS Management Console.',
    defaultVersionId: 'v1',
    createDate: '2015-07-09T17:34:45Z',
    updateDate: '2015-07-09T17:34:45Z',
    document: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['apigateway:*'], Resource: 'arn:aws:apigateway:*::/*' }],
    },
  }),
  policy({
    name: 'AmazonAPIGatewayInvokeFullAccess',
    path: '/',
    policyId: 'ANPAIIWAX2NOOQJ4AIEQ6',
    description: 'Provides full access to invoke APIs in Amazon API Gateway.',
    defaultVersionId: 'v2',
    createDate: '2015-07-09T17:36:12Z',
    updateDate: '2018-12-18T18:25:10Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['execute-api:Invoke', 'execute-api:ManageConnections'],
          Resource: 'arn:aws:execute-api:*:*:*',
        },
      ],
    },
  }),
  // AmazonEventBridgeFullAccess: the reference guide lists v7 (edited 2026-02-12 17:58 UTC)
  // as current, but its full text was not available here. This entry is v4 (2022-12-01),
  // the newest complete text found, with v4's own version id and date so the record is
  // self-consistent. Later versions changed the API-destinations service-linked-role ARN
  // and related details; the grants Nimbus evaluates (events:*, iam:PassRole to
  // events.amazonaws.com) are the same.
  policy({
    name: 'AmazonEventBridgeFullAccess',
    path: '/',
    policyId: 'ANPAZKAPJZG4BUM4GCASI',
    description: 'Provides full access to Amazon EventBridge.',
    defaultVersionId: 'v4',
    createDate: '2019-07-11T14:08:55Z',
    updateDate: '2022-12-01T17:00:46Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EventBridgeActions',
          Effect: 'Allow',
          Action: ['events:*', 'schemas:*', 'scheduler:*', 'pipes:*'],
          Resource: '*',
        },
        {
          Sid: 'IAMCreateServiceLinkedRoleForApiDestinations',
          Effect: 'Allow',
          Action: 'iam:CreateServiceLinkedRole',
          Resource: 'arn:aws:iam::*:role/aws-service-role/AmazonEventBridgeApiDestinationsServiceRolePolicy',
          Condition: { StringEquals: { 'iam:AWSServiceName': 'apidestinations.events.amazonaws.com' } },
        },
        {
          Sid: 'IAMCreateServiceLinkedRoleForAmazonEventBridgeSchemas',
          Effect: 'Allow',
          Action: 'iam:CreateServiceLinkedRole',
          Resource: 'arn:aws:iam::*:role/aws-service-role/schemas.amazonaws.com/AWSServiceRoleForSchemas',
          Condition: { StringEquals: { 'iam:AWSServiceName': 'schemas.amazonaws.com' } },
        },
        {
          Sid: 'SecretsManagerAccessForApiDestinations',
          Effect: 'Allow',
          Action: [
            'secretsmanager:CreateSecret',
            'secretsmanager:UpdateSecret',
            'secretsmanager:DeleteSecret',
            'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue',
          ],
          Resource: 'arn:aws:secretsmanager:*:*:secret:events!*',
        },
        {
          Sid: 'IAMPassRoleAccessForEventBridge',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: 'arn:aws:iam::*:role/*',
          Condition: { StringLike: { 'iam:PassedToService': 'events.amazonaws.com' } },
        },
        {
          Sid: 'IAMPassRoleAccessForScheduler',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: 'arn:aws:iam::*:role/*',
          Condition: { StringLike: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        },
        {
          Sid: 'IAMPassRoleAccessForPipes',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: 'arn:aws:iam::*:role/*',
          Condition: { StringLike: { 'iam:PassedToService': 'pipes.amazonaws.com' } },
        },
      ],
    },
  }),
  policy({
    name: 'AmazonEventBridgeReadOnlyAccess',
    path: '/',
    policyId: 'ANPAZKAPJZG4BDMP3LZME',
    description: 'Provides read only access to Amazon EventBridge.',
    defaultVersionId: 'v6',
    createDate: '2019-07-11T13:59:07Z',
    updateDate: '2022-12-01T17:02:48Z',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'events:DescribeRule',
            'events:DescribeEventBus',
            'events:DescribeEventSource',
            'events:ListEventBuses',
            'events:ListEventSources',
            'events:ListRuleNamesByTarget',
            'events:ListRules',
            'events:ListTargetsByRule',
            'events:TestEventPattern',
            'events:DescribeArchive',
            'events:ListArchives',
            'events:DescribeReplay',
            'events:ListReplays',
            'events:DescribeConnection',
            'events:ListConnections',
            'events:DescribeApiDestination',
            'events:ListApiDestinations',
            'events:DescribeEndpoint',
            'events:ListEndpoints',
            'schemas:DescribeCodeBinding',
            'schemas:DescribeDiscoverer',
            'schemas:DescribeRegistry',
            'schemas:DescribeSchema',
            'schemas:ExportSchema',
            'schemas:GetCodeBindingSource',
            'schemas:GetDiscoveredSchema',
            'schemas:GetResourcePolicy',
            'schemas:ListDiscoverers',
            'schemas:ListRegistries',
            'schemas:ListSchemas',
            'schemas:ListSchemaVersions',
            'schemas:ListTagsForResource',
            'schemas:SearchSchemas',
            'scheduler:GetSchedule',
            'scheduler:GetScheduleGroup',
            'scheduler:ListSchedules',
            'scheduler:ListScheduleGroups',
            'scheduler:ListTagsForResource',
            'pipes:DescribePipe',
            'pipes:ListPipes',
            'pipes:ListTagsForResource',
          ],
          Resource: '*',
        },
      ],
    },
  }),
];
