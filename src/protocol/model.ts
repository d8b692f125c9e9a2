import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { packageRoot } from '../util/paths.js';

/**
 * The AWS service models (botocore's service-2.json, Apache-2.0, vendored gzipped in
 * models/). Codecs read shapes from here; handlers never build XML or JSON themselves.
 */
export type Location = 'header' | 'headers' | 'querystring' | 'uri' | 'statusCode';

export interface ShapeRef {
  shape: string;
  location?: Location;
  locationName?: string;
  queryName?: string;
  xmlNamespace?: { uri: string; prefix?: string };
  xmlAttribute?: boolean;
  flattened?: boolean;
  streaming?: boolean;
  jsonvalue?: boolean;
  timestampFormat?: TimestampFormat;
  idempotencyToken?: boolean;
  hostLabel?: boolean;
}

export type TimestampFormat = 'iso8601' | 'rfc822' | 'unixTimestamp';

export interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'blob' | 'float' | 'double' | 'bigdecimal';
  members?: Record<string, ShapeRef>;
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  required?: string[];
  payload?: string;
  locationName?: string;
  flattened?: boolean;
  xmlNamespace?: { uri: string; prefix?: string };
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
  exception?: boolean;
  fault?: boolean;
  timestampFormat?: TimestampFormat;
  streaming?: boolean;
  enum?: string[];
  min?: number;
  max?: number;
  event?: boolean;
  eventstream?: boolean;
}

export interface OperationModel {
  name: string;
  http: { method: string; requestUri: string; responseCode?: number };
  input?: ShapeRef & { locationName?: string; xmlNamespace?: { uri: string } };
  output?: ShapeRef & { resultWrapper?: string };
  errors?: ShapeRef[];
  /** Superseded by another operation, which may share its route (S3's PutBucketLifecycle). */
  deprecated?: boolean;
}

export interface ServiceModel {
  metadata: {
    apiVersion: string;
    protocol: string;
    protocols?: string[];
    jsonVersion?: string;
    targetPrefix?: string;
    signingName?: string;
    endpointPrefix: string;
    serviceId: string;
    xmlNamespace?: string;
    awsQueryCompatible?: Record<string, unknown>;
  };
  operations: Record<string, OperationModel>;
  shapes: Record<string, Shape>;
}

const cache = new Map<string, ServiceModel>();

/** Loads models/<name>.json.gz once; documentation strings are dropped to save memory. */
export function loadModel(name: string): ServiceModel {
  let model = cache.get(name);
  if (!model) {
    const text = gunzipSync(readFileSync(join(packageRoot(), 'models', `${name}.json.gz`))).toString('utf8');
    model = JSON.parse(text, (key, value) => (key === 'documentation' ? undefined : value)) as ServiceModel;
    for (const [opName, op] of Object.entries(model.operations)) op.name = opName;
    cache.set(name, model);
  }
  return model;
}

export function shapeOf(model: ServiceModel, ref: ShapeRef): Shape {
  const shape = model.shapes[ref.shape];
  if (!shape) throw new Error(`model ${model.metadata.serviceId} has no shape ${ref.shape}`);
  return shape;
}
