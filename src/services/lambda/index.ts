import { loadModel } from '../../protocol/model.js';
import { RestJsonCodec } from '../../protocol/rest-json.js';
import type { RequestContext } from '../../server/context.js';
import type { OperationImpl, ServiceDef } from '../types.js';
import { functionArn, parseFunctionName } from './store.js';
import * as functions from './functions.js';
import * as aliases from './aliases.js';
import * as layers from './layers.js';
import * as settings from './settings.js';
import * as asyncInvoke from './async.js';
import { invoke } from './invoke.js';
import { addPermission, functionResourceInfo, getPolicy, removePermission } from './permissions.js';
import { urlOperations } from './urls.js';

/**
 * Lambda (rest-json, 2015-03-31): operation → handler, IAM action and resource ARN.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
 */
type Input = Record<string, any>;

/** The function ARN an operation acts on, qualified when the request names a version or alias. */
function fnArn(i: Input, ctx: RequestContext): string {
  const r = parseFunctionName(ctx, i.FunctionName, i.Qualifier);
  return functionArn(r.region, r.account, r.name, r.qualifier);
}
/** The unqualified function ARN (for operations on the function as a whole). */
function fnArnUnqualified(i: Input, ctx: RequestContext): string {
  const r = parseFunctionName(ctx, i.FunctionName);
  return functionArn(r.region, r.account, r.name);
}

const on = (handler: OperationImpl['handler'], action: string, resource: OperationImpl['resource'] = fnArn): OperationImpl => ({ handler, action: `lambda:${action}`, resource });
const anywhere = (handler: OperationImpl['handler'], action: string): OperationImpl => ({ handler, action: `lambda:${action}`, resource: () => '*' });

export const lambdaService: ServiceDef = {
  name: 'lambda',
  signingNames: ['lambda'],
  model: () => loadModel('lambda'),
  codec: new RestJsonCodec(),
  authErrors: { unknownKey: 'UnrecognizedClientException', badSignature: 'InvalidSignatureException', accessDenied: 'AccessDeniedException' },
  requestIdStyle: 'amzn',
  resourceInfo: (ctx, arn) => (arn.includes(':layer:') ? layers.layerResourceInfo(ctx, arn) : functionResourceInfo(ctx, arn)),
  // A 50 MB zip arrives base64-encoded inside a JSON document.
  maxBodyBytes: 70 << 20,
  operations: {
    CreateFunction: on(functions.createFunction, 'CreateFunction', fnArnUnqualified),
    GetFunction: on(functions.getFunction, 'GetFunction'),
    GetFunctionConfiguration: on(functions.getFunctionConfiguration, 'GetFunctionConfiguration'),
    ListFunctions: anywhere(functions.listFunctions, 'ListFunctions'),
    UpdateFunctionCode: on(functions.updateFunctionCode, 'UpdateFunctionCode', fnArnUnqualified),
    UpdateFunctionConfiguration: on(functions.updateFunctionConfiguration, 'UpdateFunctionConfiguration', fnArnUnqualified),
    DeleteFunction: on(functions.deleteFunction, 'DeleteFunction'),
    PublishVersion: on(functions.publishVersion, 'PublishVersion', fnArnUnqualified),
    ListVersionsByFunction: on(functions.listVersionsByFunction, 'ListVersionsByFunction', fnArnUnqualified),
    CreateAlias: on(aliases.createAlias, 'CreateAlias', fnArnUnqualified),
    GetAlias: on(aliases.getAlias, 'GetAlias', (i: Input, ctx) => `${fnArnUnqualified(i, ctx)}:${i.Name}`),
    UpdateAlias: on(aliases.updateAlias, 'UpdateAlias', (i: Input, ctx) => `${fnArnUnqualified(i, ctx)}:${i.Name}`),
    DeleteAlias: on(aliases.deleteAlias, 'DeleteAlias', (i: Input, ctx) => `${fnArnUnqualified(i, ctx)}:${i.Name}`),
    ListAliases: on(aliases.listAliases, 'ListAliases', fnArnUnqualified),
    Invoke: on(invoke, 'InvokeFunction'),
    AddPermission: on(addPermission, 'AddPermission'),
    RemovePermission: on(removePermission, 'RemovePermission'),
    GetPolicy: on(getPolicy, 'GetPolicy'),
    PutFunctionConcurrency: on(settings.putFunctionConcurrency, 'PutFunctionConcurrency', fnArnUnqualified),
    GetFunctionConcurrency: on(settings.getFunctionConcurrency, 'GetFunctionConcurrency', fnArnUnqualified),
    DeleteFunctionConcurrency: on(settings.deleteFunctionConcurrency, 'DeleteFunctionConcurrency', fnArnUnqualified),
    GetAccountSettings: anywhere(settings.getAccountSettings, 'GetAccountSettings'),
    TagResource: on(settings.tagResource, 'TagResource', (i: Input) => decodeURIComponent(i.Resource)),
    UntagResource: on(settings.untagResource, 'UntagResource', (i: Input) => decodeURIComponent(i.Resource)),
    ListTags: on(settings.listTags, 'ListTags', (i: Input) => decodeURIComponent(i.Resource)),
    PutFunctionEventInvokeConfig: on(asyncInvoke.putFunctionEventInvokeConfig, 'PutFunctionEventInvokeConfig'),
    UpdateFunctionEventInvokeConfig: on(asyncInvoke.updateFunctionEventInvokeConfig, 'UpdateFunctionEventInvokeConfig'),
    GetFunctionEventInvokeConfig: on(asyncInvoke.getFunctionEventInvokeConfig, 'GetFunctionEventInvokeConfig'),
    DeleteFunctionEventInvokeConfig: on(asyncInvoke.deleteFunctionEventInvokeConfig, 'DeleteFunctionEventInvokeConfig'),
    ListFunctionEventInvokeConfigs: on(asyncInvoke.listFunctionEventInvokeConfigs, 'ListFunctionEventInvokeConfigs', fnArnUnqualified),
    PublishLayerVersion: on(layers.publishLayerVersion, 'PublishLayerVersion', (i: Input, ctx) => layers.layerResourceArn({ ...i, VersionNumber: undefined }, ctx)),
    GetLayerVersion: on(layers.getLayerVersion, 'GetLayerVersion', layers.layerResourceArn),
    GetLayerVersionByArn: on(layers.getLayerVersionByArn, 'GetLayerVersion', (i: Input) => i.Arn),
    ListLayers: anywhere(layers.listLayers, 'ListLayers'),
    ListLayerVersions: anywhere(layers.listLayerVersions, 'ListLayerVersions'),
    DeleteLayerVersion: on(layers.deleteLayerVersion, 'DeleteLayerVersion', layers.layerResourceArn),
    AddLayerVersionPermission: on(layers.addLayerVersionPermission, 'AddLayerVersionPermission', layers.layerResourceArn),
    RemoveLayerVersionPermission: on(layers.removeLayerVersionPermission, 'RemoveLayerVersionPermission', layers.layerResourceArn),
    GetLayerVersionPolicy: on(layers.getLayerVersionPolicy, 'GetLayerVersionPolicy', layers.layerResourceArn),
    ...urlOperations,
  },
};
