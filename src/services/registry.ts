import { loadModel } from '../protocol/model.js';
import { JsonCodec } from '../protocol/json.js';
import { RestJsonCodec } from '../protocol/rest-json.js';
import type { ServiceDef } from './types.js';
import { s3Service } from './s3/index.js';
import { stsService } from './sts/index.js';
import { iamService } from './iam/index.js';
import { s3controlService } from './s3control/index.js';
import { lambdaService } from './lambda/index.js';
import { logsService } from './logs/index.js';

/**
 * Every service Nimbus speaks. Services whose operation table is empty still resolve,
 * authenticate and parse, and answer each operation with 501 NotImplemented.
 */
function modelOnly(name: string, signingNames: string[], codec: ServiceDef['codec'], authErrors: ServiceDef['authErrors'], maxBodyBytes = 8 << 20): ServiceDef {
  return {
    name,
    signingNames,
    model: () => loadModel(name),
    codec,
    operations: {},
    authErrors,
    requestIdStyle: 'amzn',
    maxBodyBytes,
  };
}

const queryAuth = { unknownKey: 'InvalidClientTokenId', badSignature: 'SignatureDoesNotMatch' };

const jsonAuth = { unknownKey: 'UnrecognizedClientException', badSignature: 'InvalidSignatureException' };

export function buildRegistry(): ServiceDef[] {
  return [
    s3Service,
    stsService,
    iamService,
    s3controlService,
    lambdaService,
    modelOnly('apigateway', ['apigateway'], new RestJsonCodec(), jsonAuth),
    modelOnly('apigatewayv2', ['apigateway'], new RestJsonCodec(), jsonAuth),
    modelOnly('events', ['events'], new JsonCodec(), jsonAuth),
    modelOnly(
      'sqs',
      ['sqs'],
      new JsonCodec({ QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue' }),
      queryAuth,
    ),
    logsService,
  ];
}

/** Health-document state of each service. */
export function serviceStates(services: ServiceDef[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of services) out[s.name] = Object.keys(s.operations).length ? 'running' : 'disabled';
  return out;
}
